import SluiceAuth
import SluiceKafka
import SluiceRuntime
import SluiceStorage

/// Everything the bridge reads from its environment (see the README's configuration table).
public struct BridgeConfiguration: Sendable {
    public var http: ServiceAddress
    /// Base URL of the query service the backing jobs fill their grids from.
    public var queryURL: String
    /// Must equal the query service's own setting: refreshes shorter than this are widened backwards.
    public var queryMinimumWindowMilliseconds: Int64
    public var kafka: KafkaConfiguration
    public var changesTopic: String
    /// How long a request for a new window waits for its first fill before answering with what it has.
    public var fillTimeout: Duration
    /// A job nobody asked for within this time stops and frees its memory.
    public var jobIdleTime: Duration
    /// Cache memory cap; past it the least recently asked jobs are evicted.
    public var cacheBytes: Int
    /// How often each job looks for unfilled grid points and retries them, at most.
    public var healthCheckInterval: Duration
    /// How often each job recomputes its whole grid, repairing any change record it never received.
    public var fullRefreshInterval: Duration
    public var auth: AuthSettings
    /// Where Debian's `libjs-dygraphs` put the charting library the chart page (`GET /`) loads.
    public var dygraphsDirectory: String
    /// Where the keys are read from when auth is required (one connection).
    public var postgres: PostgresSettings

    public static func fromEnvironment(_ environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError) -> BridgeConfiguration {
        let shared = try PipelineSettings.fromEnvironment(environment)
        return BridgeConfiguration(
            http: try ServiceAddress.fromEnvironment(environment, portVariable: "SLUICE_BRIDGE_PORT", defaultPort: 8083),
            queryURL: environment.string("SLUICE_QUERY_URL", default: "http://127.0.0.1:8081"),
            queryMinimumWindowMilliseconds: shared.queryMinimumWindowMilliseconds,
            kafka: KafkaConfiguration(
                bootstrapServers: shared.kafkaBootstrap,
                properties: ["fetch.wait.max.ms": String(shared.fetchWaitMilliseconds)]
            ),
            changesTopic: shared.changesTopic,
            fillTimeout: try environment.milliseconds("SLUICE_BRIDGE_FILL_TIMEOUT_MS", default: 2_000, in: 0...60_000),
            jobIdleTime: try environment.milliseconds("SLUICE_BRIDGE_JOB_IDLE_MS", default: 900_000, in: 1_000...86_400_000),
            cacheBytes: try environment.int("SLUICE_BRIDGE_CACHE_MB", default: 256, in: 1...1_048_576) * 1_048_576,
            healthCheckInterval: try environment.milliseconds("SLUICE_BRIDGE_HEALTH_CHECK_MS", default: 5_000, in: 100...3_600_000),
            fullRefreshInterval: try environment.milliseconds("SLUICE_BRIDGE_FULL_REFRESH_MS", default: 60_000, in: 1_000...86_400_000),
            auth: try AuthSettings.fromEnvironment(environment),
            dygraphsDirectory: environment.string("SLUICE_BRIDGE_DYGRAPHS_DIR", default: "/usr/share/javascript/dygraphs"),
            postgres: try PostgresSettings.fromEnvironment(environment).limited(toConnections: 1)
        )
    }
}
