import SluiceAuth
import SluiceKafka
import SluiceRuntime
import SluiceStorage

/// Everything ingest reads from its environment (see the README's configuration table).
public struct IngestConfiguration: Sendable {
    public var kafka: KafkaConfiguration
    public var topic: String
    /// Bodies larger than this are refused with 413.
    public var maxBodyBytes: Int
    /// Request bodies held at once (each counted by its declared length, or `maxBodyBytes` when it
    /// declares none); past it, 503. Ingest's memory peaks at a few times this (BENCHMARKS.md, "Ingest memory").
    public var maxInFlightBytes: Int
    /// The `Retry-After` a 503 suggests, in seconds.
    public var retryAfterSeconds: Int
    public var http: ServiceAddress
    /// Refuse new messages (503) while any partition holds more than this many messages the writer has
    /// not stored; 0 turns the check off. Keep it well under what the broker retains per partition.
    public var maxPartitionBacklog: Int64
    /// How often the backlog is measured.
    public var backlogCheckInterval: Duration
    /// The writer's consumer group, whose stored offsets measure the backlog.
    public var writerGroup: String
    /// Where the writer stores its offsets; ingest only reads them, over at most two connections.
    public var postgres: PostgresSettings
    public var auth: AuthSettings
    /// Flux's `metric_data` endpoints refuse timestamps older than this (backfill goes to `populate_metric`).
    public var fluxMaxAgeSeconds: Int
    /// Graphite's plaintext listener; nil when `SLUICE_GRAPHITE_PORT` is not set.
    public var graphite: GraphiteSettings?

    public static func fromEnvironment(_ environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError) -> IngestConfiguration {
        let deliveryTimeout = try environment.int("SLUICE_KAFKA_DELIVERY_TIMEOUT_MS", default: 5000, in: 100...300_000)
        // 10 ms gathers concurrent POSTs into one produce request: fewer, larger message sets cost the
        // broker less, and the acknowledgement came sooner for it (BENCHMARKS.md "The local broker").
        let linger = try environment.int("SLUICE_KAFKA_LINGER_MS", default: 10, in: 0...1000)
        let shared = try PipelineSettings.fromEnvironment(environment)
        return IngestConfiguration(
            kafka: KafkaConfiguration(
                bootstrapServers: shared.kafkaBootstrap,
                properties: ["message.timeout.ms": String(deliveryTimeout), "linger.ms": String(linger)]
            ),
            topic: shared.measurementsTopic,
            maxBodyBytes: try environment.int("SLUICE_INGEST_MAX_BODY_BYTES", default: 16 << 20, in: 1024...(1 << 30)),
            maxInFlightBytes: try environment.int("SLUICE_INGEST_MAX_IN_FLIGHT_BYTES", default: 64 << 20, in: 1024...(1 << 34)),
            retryAfterSeconds: try environment.int("SLUICE_INGEST_RETRY_AFTER_S", default: 1, in: 1...3600),
            http: try ServiceAddress.fromEnvironment(environment, portVariable: "SLUICE_INGEST_PORT", defaultPort: 8080),
            maxPartitionBacklog: Int64(try environment.int("SLUICE_INGEST_MAX_PARTITION_BACKLOG", default: 20_000, in: 0...1_000_000_000)),
            backlogCheckInterval: try environment.milliseconds("SLUICE_INGEST_BACKLOG_CHECK_MS", default: 250, in: 10...60_000),
            writerGroup: shared.writerGroup,
            postgres: try PostgresSettings.fromEnvironment(environment).limited(toConnections: 2),
            auth: try AuthSettings.fromEnvironment(environment),
            fluxMaxAgeSeconds: try environment.int("SLUICE_FLUX_MAX_AGE_S", default: 3600, in: 1...(10 * 365 * 86_400)),
            graphite: try GraphiteSettings.fromEnvironment(environment)
        )
    }
}
