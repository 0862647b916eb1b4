import SluiceKafka
import SluiceRuntime

/// Everything ingest reads from its environment (see the README's configuration table).
public struct IngestConfiguration: Sendable {
    public var kafka: KafkaConfiguration
    public var topic: String
    /// Bodies larger than this are refused with 413.
    public var maxBodyBytes: Int
    /// The `Retry-After` a 503 suggests, in seconds.
    public var retryAfterSeconds: Int
    public var http: ServiceAddress

    public static func fromEnvironment(_ environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError) -> IngestConfiguration {
        let deliveryTimeout = try environment.int("SLUICE_KAFKA_DELIVERY_TIMEOUT_MS", default: 5000, in: 100...300_000)
        let linger = try environment.int("SLUICE_KAFKA_LINGER_MS", default: 2, in: 0...1000)
        return IngestConfiguration(
            kafka: KafkaConfiguration(
                bootstrapServers: environment.string("SLUICE_KAFKA_BOOTSTRAP", default: "127.0.0.1:9092"),
                properties: ["message.timeout.ms": String(deliveryTimeout), "linger.ms": String(linger)]
            ),
            topic: environment.string("SLUICE_MEASUREMENTS_TOPIC", default: "sluice.measurements"),
            maxBodyBytes: try environment.int("SLUICE_INGEST_MAX_BODY_BYTES", default: 16 << 20, in: 1024...(1 << 30)),
            retryAfterSeconds: try environment.int("SLUICE_INGEST_RETRY_AFTER_S", default: 1, in: 1...3600),
            http: try ServiceAddress.fromEnvironment(environment, portVariable: "SLUICE_INGEST_PORT", defaultPort: 8080)
        )
    }
}
