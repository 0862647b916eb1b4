import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import SluiceAuth
import SluiceKafka
import SluiceModel
import SluiceRuntime

/// Builds the bridge process: one application whose services are the job registry, the change-feed
/// listener and the key directory (see `buildBridgeApplication`).
public func buildBridge(
    configuration: BridgeConfiguration,
    registry prometheus: PrometheusCollectorRegistry,
    logger: Logger
) throws -> ServiceGroup {
    ServiceAssembly.group(
        [.init(service: try buildBridgeApplication(configuration: configuration, registry: prometheus, logger: logger))], logger: logger
    )
}

/// The bridge as a Hummingbird application whose PostgreSQL client (for keys), key directory, job registry
/// and change-feed listener are its own services, started before the server and stopped after it: what
/// the process runs, and what in-process tests drive with `app.test(.router)`.
/// - Parameter keys: where keys come from instead of PostgreSQL (tests).
public func buildBridgeApplication(
    configuration: BridgeConfiguration,
    registry prometheus: PrometheusCollectorRegistry,
    keys: (any KeySource)? = nil,
    logger: Logger
) throws -> some ApplicationProtocol {
    let metrics = BridgeMetrics()
    // Backing jobs serve every caller, so they read with the bridge's own credentials (derived from the
    // master key, read-only); each caller's rights are checked in WindowRoute before a job is touched.
    let source = QueryServiceClient(
        baseURL: configuration.queryURL,
        minimumWindowMilliseconds: configuration.queryMinimumWindowMilliseconds,
        authorization: configuration.auth.mode == .required ? configuration.auth.masterKey?.internalReader.bearerAuthorization : nil
    )
    let settings = BackingJob.Settings(
        healthCheckInterval: configuration.healthCheckInterval,
        fullRefreshInterval: configuration.fullRefreshInterval
    )
    let jobs = JobRegistry(
        limits: .init(idleTime: configuration.jobIdleTime, cacheBytes: configuration.cacheBytes),
        metrics: metrics,
        logger: logger
    ) { key, work in
        BackingJob(key: key, source: source, work: work, settings: settings, metrics: metrics, logger: logger)
    }
    // No group is joined (partitions are assigned directly), so the id only names this reader in broker logs.
    let consumer = try KafkaConsumer(configuration: configuration.kafka, groupID: "sluice-bridge-\(UUID().uuidString.prefix(8))", logger: logger)
    let listener = ChangeFeedListener(consumer: consumer, topic: configuration.changesTopic, registry: jobs, metrics: metrics, logger: logger)

    // Healthy while it serves: without the query service or the change feed it still answers, naming
    // missing points or refreshing less often, and /metrics says which (sluice_bridge_change_feed_reading).
    // PostgreSQL only to read the keys, so only when they are required and not given.
    let postgres = configuration.auth.mode == .required && keys == nil ? configuration.postgres.makeClient(backgroundLogger: logger) : nil
    let auth = ServiceAuth(
        settings: configuration.auth, postgres: postgres, keys: keys,
        maxBodyBytes: WindowRoute.maxBodyBytes, service: "sluice-bridge", logger: logger
    )
    let router = ServiceAssembly.router(context: SluiceRequestContext.self, registry: prometheus, openAPI: BridgeOpenAPI.document)
    let route = WindowRoute(jobs: jobs, fillTimeout: configuration.fillTimeout)
    let windows = auth.protecting(router.group())
    windows.post("/") { request, context in try await route.handle(request, context: context) }
    windows.post("/v1/window") { request, context in try await route.handle(request, context: context) }
    let series = SeriesRoute(source: source)
    windows.get("/series") { request, context in try await series.handle(request, context: context) }
    PageRoutes(dygraphsDirectory: configuration.dygraphsDirectory, logger: logger).register(on: router)

    return ServiceAssembly.application(
        router: router, address: configuration.http, name: "sluice-bridge",
        services: (postgres.map { [$0] } ?? []) + auth.directories + [jobs, listener], logger: logger
    )
}
