import Logging
import Metrics
import Prometheus

/// The once-per-process set-up every executable runs first: structured logs and Prometheus metrics.
public enum ProcessBootstrap {
    /// Bootstraps swift-log (level from `SLUICE_LOG_LEVEL`, default `info`) and swift-metrics.
    /// - Returns: the registry that `GET /metrics` renders, and the process logger.
    public static func run(label: String, environment: EnvironmentReader = EnvironmentReader()) -> (PrometheusCollectorRegistry, Logger) {
        let level = Logger.Level(rawValue: environment.string("SLUICE_LOG_LEVEL", default: "info").lowercased()) ?? .info
        LoggingSystem.bootstrap { name in
            var handler = StreamLogHandler.standardError(label: name)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return (registry, Logger(label: label))
    }
}
