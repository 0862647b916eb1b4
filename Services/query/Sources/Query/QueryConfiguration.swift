import SluiceAuth
import SluiceRuntime
import SluiceStorage

/// Everything the query service reads from its environment (see the README's configuration table).
public struct QueryConfiguration: Sendable {
    public var postgres: PostgresSettings
    public var partitionCount: Int
    /// Windows shorter than this are refused (seed 003: at least 10 minutes).
    public var minimumWindowNanoseconds: Int64
    public var http: ServiceAddress
    /// PostgreSQL stops any `/api` statement that runs longer (nil: never).
    public var statementTimeout: Duration?
    /// `/api` requests worked on at once; more are answered 503 with `Retry-After`.
    public var maxInFlight: Int
    /// The most series one metric of a KairosDB query may match.
    public var kairosMaxSeries: Int
    /// The most data points a KairosDB query returns per group without an aggregator, and the most
    /// sampling ranges an aggregator may make.
    public var kairosMaxPoints: Int
    public var auth: AuthSettings

    public static func fromEnvironment(_ environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError) -> QueryConfiguration {
        let shared = try PipelineSettings.fromEnvironment(environment)
        return QueryConfiguration(
            postgres: try PostgresSettings.fromEnvironment(environment),
            partitionCount: shared.measurementPartitions,
            minimumWindowNanoseconds: shared.queryMinimumWindowMilliseconds * 1_000_000,
            http: try ServiceAddress.fromEnvironment(environment, portVariable: "SLUICE_QUERY_PORT", defaultPort: 8081),
            statementTimeout: try environment.milliseconds("SLUICE_QUERY_STATEMENT_TIMEOUT_MS", default: 5000, in: 0...3_600_000).nonZero,
            maxInFlight: try environment.int("SLUICE_QUERY_MAX_IN_FLIGHT", default: 64, in: 1...100_000),
            kairosMaxSeries: try environment.int("SLUICE_KAIROS_MAX_SERIES", default: 1000, in: 1...1_000_000),
            kairosMaxPoints: try environment.int("SLUICE_KAIROS_MAX_POINTS", default: 100_000, in: 1...10_000_000),
            auth: try AuthSettings.fromEnvironment(environment)
        )
    }
}

extension Duration {
    /// Nil for zero: a setting of 0 means "no limit".
    var nonZero: Duration? { self == .zero ? nil : self }
}
