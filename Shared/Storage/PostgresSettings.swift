import Logging
import PostgresNIO
import SluiceModel
import SluiceRuntime

/// How to reach PostgreSQL, read from `SLUICE_PG_*` variables.
public struct PostgresSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var maxConnections: Int

    public init(host: String, port: Int, user: String, password: String?, database: String, maxConnections: Int) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.maxConnections = maxConnections
    }

    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> PostgresSettings {
        let password = environment.string("SLUICE_PG_PASSWORD", default: "")
        return PostgresSettings(
            host: environment.string("SLUICE_PG_HOST", default: "127.0.0.1"),
            port: try environment.port("SLUICE_PG_PORT", default: 5432),
            user: environment.string("SLUICE_PG_USER", default: "sluice"),
            password: password.isEmpty ? nil : password,
            database: environment.string("SLUICE_PG_DATABASE", default: "sluice"),
            maxConnections: try environment.int("SLUICE_PG_MAX_CONNECTIONS", default: 8, in: 1...512)
        )
    }

    /// The same server with a smaller pool, for processes that only read a little.
    public func limited(toConnections limit: Int) -> PostgresSettings {
        var copy = self
        copy.maxConnections = min(maxConnections, limit)
        return copy
    }

    /// A pooled client; run it as the first service of the process's `ServiceGroup`.
    /// - Parameter statementTimeout: PostgreSQL cancels any statement on these connections that runs longer.
    public func makeClient(backgroundLogger: Logger, statementTimeout: Duration? = nil) -> PostgresClient {
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: .disable
        )
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 1
        if let statementTimeout, statementTimeout > .zero {
            configuration.options.additionalStartupParameters = [("statement_timeout", "\(max(1, statementTimeout.wholeMilliseconds))")]
        }
        return PostgresClient(configuration: configuration, backgroundLogger: backgroundLogger)
    }
}
