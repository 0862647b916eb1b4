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
    /// Memory for what `/api` keeps between requests, in bytes: seven eighths for tier rows
    /// (`TierStateCache`), one eighth for raw minutes past them (`RawMinuteCache`); 0: nothing kept.
    public var tierCacheBytes: Int
    /// The most series one metric of a KairosDB query may match.
    public var kairosMaxSeries: Int
    /// The most data points a KairosDB query returns per group without an aggregator, and the most
    /// sampling ranges an aggregator may make.
    public var kairosMaxPoints: Int
    public var auth: AuthSettings
    public var history: HistorySettings

    public static func fromEnvironment(_ environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError) -> QueryConfiguration {
        let shared = try PipelineSettings.fromEnvironment(environment)
        return QueryConfiguration(
            postgres: try PostgresSettings.fromEnvironment(environment),
            partitionCount: shared.measurementPartitions,
            minimumWindowNanoseconds: shared.queryMinimumWindowMilliseconds * 1_000_000,
            http: try ServiceAddress.fromEnvironment(environment, portVariable: "SLUICE_QUERY_PORT", defaultPort: 8081),
            statementTimeout: try environment.milliseconds("SLUICE_QUERY_STATEMENT_TIMEOUT_MS", default: 5000, in: 0...3_600_000).nonZero,
            maxInFlight: try environment.int("SLUICE_QUERY_MAX_IN_FLIGHT", default: 64, in: 1...100_000),
            tierCacheBytes: try environment.int("SLUICE_QUERY_TIER_CACHE_MB", default: 128, in: 0...1_000_000) << 20,
            kairosMaxSeries: try environment.int("SLUICE_KAIROS_MAX_SERIES", default: 1000, in: 1...1_000_000),
            kairosMaxPoints: try environment.int("SLUICE_KAIROS_MAX_POINTS", default: 100_000, in: 1...10_000_000),
            auth: try AuthSettings.fromEnvironment(environment),
            history: try HistorySettings.fromEnvironment(environment)
        )
    }
}

/// History queries (`/v0/data_hist/…`, seed 001): how many run at once, how long and how large each may
/// be, how many may wait, and how the history role logs in.
public struct HistorySettings: Sendable {
    /// Queries run at once, each on its own connection of the history role.
    public var workers: Int
    /// Queries queued or running at once; a submission past it is answered 429.
    public var queueLimit: Int
    /// The most rows a result may hold; a query that returns more fails, saying so.
    public var maxRows: Int
    public var statementTimeout: Duration
    /// How often results past retention are removed and silent runners' queries failed.
    public var sweepInterval: Duration
    /// The history role's password, set by the query service at start (empty: none, for trust logins).
    public var password: String?
    /// How often an idle worker looks for a queued query (submissions on another copy are found this way).
    public var pollInterval: Duration = .milliseconds(250)
    /// Result rows stored per write.
    public var rowsPerWrite = 1000

    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> HistorySettings {
        let password = environment.string("SLUICE_HIST_PASSWORD", default: "")
        return HistorySettings(
            workers: try environment.int("SLUICE_HIST_WORKERS", default: 2, in: 1...64),
            queueLimit: try environment.int("SLUICE_HIST_QUEUE_LIMIT", default: 100, in: 1...100_000),
            maxRows: try environment.int("SLUICE_HIST_MAX_ROWS", default: 1_000_000, in: 1...100_000_000),
            statementTimeout: try environment.milliseconds("SLUICE_HIST_STATEMENT_TIMEOUT_MS", default: 300_000, in: 100...86_400_000),
            sweepInterval: try environment.milliseconds("SLUICE_HIST_SWEEP_INTERVAL_MS", default: 10_000, in: 50...3_600_000),
            password: password.isEmpty ? nil : password
        )
    }

    /// How the history pool logs in: the service's server and database, the history role, one
    /// connection per worker and one for checking submissions.
    func postgres(from settings: PostgresSettings) -> PostgresSettings {
        var copy = settings
        copy.user = HistorySchema.role
        copy.password = password
        copy.maxConnections = workers + 1
        return copy
    }
}

extension Duration {
    /// Nil for zero: a setting of 0 means "no limit".
    var nonZero: Duration? { self == .zero ? nil : self }
}
