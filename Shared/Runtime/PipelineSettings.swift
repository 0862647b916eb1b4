/// Settings that two or more services read, each read here once with its default and range, so that
/// services configured from one environment can never disagree about them.
public struct PipelineSettings: Sendable, Equatable {
    /// `SLUICE_KAFKA_BOOTSTRAP`: Kafka bootstrap servers.
    public var kafkaBootstrap: String
    /// `SLUICE_MEASUREMENTS_TOPIC`: ingest publishes there, the writer reads it.
    public var measurementsTopic: String
    /// `SLUICE_CHANGES_TOPIC`: the writer announces committed batches there, the bridge reads it.
    public var changesTopic: String
    /// `SLUICE_WRITER_GROUP`: the writer's consumer group, under which its offsets are stored (ingest
    /// reads them to measure the backlog).
    public var writerGroup: String
    /// `SLUICE_KAFKA_FETCH_WAIT_MS`: how long a fetch waits on an idle partition. The local broker does
    /// not answer a waiting fetch early when data arrives, so the wait shows up in the POST → visible
    /// time: librdkafka's 500 ms default showed up whole (p50 481 ms); 10 ms against 50 ms took lag p99
    /// from ~187 to ~163 ms at 10k msg/s for 1.02× the box's CPU per message, and costs the idle stack
    /// ~1% of a core in fetches (BENCHMARKS.md "Sluice beside InfluxDB and Prometheus, and where
    /// Sluice's lag went"). Apache Kafka answers early, so there it only costs the idle fetches.
    public var fetchWaitMilliseconds: Int
    /// `SLUICE_PG_PARTITIONS`: hash partitions of `measurements` when the schema is first created.
    public var measurementPartitions: Int
    /// `SLUICE_QUERY_MIN_WINDOW_MS`: the shortest window `/api` accepts; the bridge widens shorter fills to it.
    public var queryMinimumWindowMilliseconds: Int64

    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> PipelineSettings {
        PipelineSettings(
            kafkaBootstrap: environment.string("SLUICE_KAFKA_BOOTSTRAP", default: "127.0.0.1:9092"),
            measurementsTopic: environment.string("SLUICE_MEASUREMENTS_TOPIC", default: "sluice.measurements"),
            changesTopic: environment.string("SLUICE_CHANGES_TOPIC", default: "sluice.changes"),
            writerGroup: environment.string("SLUICE_WRITER_GROUP", default: "sluice-writer"),
            fetchWaitMilliseconds: try environment.int("SLUICE_KAFKA_FETCH_WAIT_MS", default: 10, in: 1...5000),
            measurementPartitions: try environment.int("SLUICE_PG_PARTITIONS", default: 16, in: 1...1024),
            queryMinimumWindowMilliseconds: Int64(try environment.int("SLUICE_QUERY_MIN_WINDOW_MS", default: 600_000, in: 0...86_400_000))
        )
    }
}
