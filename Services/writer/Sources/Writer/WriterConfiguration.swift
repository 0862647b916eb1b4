import SluiceKafka
import SluiceRuntime
import SluiceStorage

/// Everything the writer reads from its environment (see the README's configuration table).
public struct WriterConfiguration: Sendable {
    public var kafka: KafkaConfiguration
    public var topic: String
    /// Where the writer announces, after each commit, which series changed (the bridge listens).
    public var changesTopic: String
    public var consumerGroup: String
    /// Flush when this many measurements are pending…
    public var batchSize: Int
    /// …or when the oldest pending one has waited this long. Polling stops while a batch is stored, so
    /// what arrives meanwhile makes the next batch: under load batches grow with the store's own time,
    /// and the interval only bounds the wait when records are few. 10 ms against 200 ms took lag p99
    /// from ~395 to ~193 ms at 10k msg/s for 1.23× the box's CPU per message (1.09× at 50k, where
    /// batches are larger; BENCHMARKS.md "Sluice beside InfluxDB and Prometheus, and where Sluice's lag went").
    public var flushInterval: Duration
    /// A store attempt still running after this long is abandoned and retried; a COPY on a killed
    /// connection has been seen to hang for good instead of failing.
    public var storeTimeout: Duration
    /// How long `/health` reports a data loss or offset reset after the writer found it.
    public var dataLossAlert: Duration
    public var partitionCount: Int
    /// `SLUICE_RETENTION_RAW`, `_1M`, `_1H`: what each tier keeps unless `sluice-admin retention set` says otherwise.
    public var retention: Retention
    /// `SLUICE_PARTITION_PERIOD_RAW`, `_1M`, `_1H`: how much time each partition of a tier spans.
    public var partitionPeriods: PartitionPeriods
    /// `SLUICE_PARTITION_CHECK_S`: how often partitions are made ahead and expired ones dropped; rounds
    /// are at most half the narrowest partition period apart, so the slots made ahead cannot run out.
    public var partitionCheckInterval: Duration
    /// `SLUICE_ROLLUPS` (`on`, the default, or `off`): whether the writer folds the rollup tiers. Off, it
    /// still marks minutes it must not leave stale, and `/api` reads raw rows past each series' last tier
    /// row; turned on again, everything since is rebuilt by the refresher.
    public var rollups: Bool
    /// `SLUICE_ROLLUP_REFRESH_MS`: how long the refresher waits after a round that found nothing to do.
    public var rollupRefreshInterval: Duration
    public var postgres: PostgresSettings
    public var http: ServiceAddress

    public static func fromEnvironment(_ environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError) -> WriterConfiguration {
        let shared = try PipelineSettings.fromEnvironment(environment)
        let rollups = environment.string("SLUICE_ROLLUPS", default: "on").lowercased()
        guard rollups == "on" || rollups == "off" else {
            throw ConfigurationError(variable: "SLUICE_ROLLUPS", reason: "'\(rollups)' is neither 'on' nor 'off'")
        }
        let partitionPeriods = try PartitionPeriods.fromEnvironment(environment)
        let partitionCheck = Duration.seconds(try environment.int("SLUICE_PARTITION_CHECK_S", default: 300, in: 1...86_400))
        return WriterConfiguration(
            kafka: KafkaConfiguration(
                bootstrapServers: shared.kafkaBootstrap,
                properties: ["fetch.wait.max.ms": String(shared.fetchWaitMilliseconds)]
            ),
            topic: shared.measurementsTopic,
            changesTopic: shared.changesTopic,
            consumerGroup: shared.writerGroup,
            batchSize: try environment.int("SLUICE_WRITER_BATCH_SIZE", default: 20_000, in: 1...1_000_000),
            flushInterval: try environment.milliseconds("SLUICE_WRITER_FLUSH_MS", default: 10, in: 1...250),
            storeTimeout: try environment.milliseconds("SLUICE_WRITER_STORE_TIMEOUT_MS", default: 30_000, in: 100...3_600_000),
            dataLossAlert: .seconds(try environment.int("SLUICE_WRITER_DATA_LOSS_ALERT_S", default: 900, in: 0...604_800)),
            partitionCount: shared.measurementPartitions,
            retention: try Retention.fromEnvironment(environment),
            partitionPeriods: partitionPeriods,
            partitionCheckInterval: min(partitionCheck, .nanoseconds(partitionPeriods.narrowest / 2)),
            rollups: rollups == "on",
            rollupRefreshInterval: try environment.milliseconds("SLUICE_ROLLUP_REFRESH_MS", default: 1000, in: 10...600_000),
            postgres: try PostgresSettings.fromEnvironment(environment),
            http: try ServiceAddress.fromEnvironment(environment, portVariable: "SLUICE_WRITER_PORT", defaultPort: 8082)
        )
    }
}
