import SluiceModel
import SluiceRuntime

/// Graphite's plaintext listener: off unless `SLUICE_GRAPHITE_PORT` is set.
public struct GraphiteSettings: Sendable {
    public var host: String
    /// 0 picks a free port (ingest logs the one bound).
    public var port: Int
    /// Graphite carries no credentials: every line goes to this domain, and the port must be reachable
    /// only by trusted agents.
    public var domain: String
    /// A longer line is refused and skipped, so one endless line cannot hold a connection's memory.
    public var maxLineBytes: Int
    /// Measurements sent to Kafka at once from one connection; more lines wait in the socket.
    public var batchSize: Int
    /// After SIGTERM, how long open connections are still read (agents keep theirs open for good).
    public var drain: Duration

    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> GraphiteSettings? {
        guard environment.string("SLUICE_GRAPHITE_PORT", default: "").isEmpty == false else { return nil }
        let domain = environment.string("SLUICE_GRAPHITE_DOMAIN", default: Measurement.defaultDomain)
        if let problem = MeasurementLimits.problem(withDomain: domain) {
            throw ConfigurationError(variable: "SLUICE_GRAPHITE_DOMAIN", reason: problem)
        }
        return GraphiteSettings(
            host: environment.string("SLUICE_BIND_HOST", default: "127.0.0.1"),
            port: try environment.port("SLUICE_GRAPHITE_PORT", default: 2003),
            domain: domain,
            maxLineBytes: try environment.int("SLUICE_GRAPHITE_MAX_LINE_BYTES", default: 4096, in: 64...1 << 20),
            batchSize: try environment.int("SLUICE_GRAPHITE_BATCH", default: 5000, in: 1...100_000),
            drain: try environment.milliseconds("SLUICE_GRAPHITE_DRAIN_MS", default: 1000, in: 0...60_000)
        )
    }
}
