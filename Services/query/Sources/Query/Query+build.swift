import Hummingbird
import Logging
import Metrics
import PostgresNIO
import Prometheus
import ServiceLifecycle
import SluiceAuth
import SluiceModel
import SluiceRuntime
import SluiceStorage

/// Builds the query process: PostgreSQL client, then the HTTP server, which migrates the schema before it
/// starts listening.
public func buildQuery(
    configuration: QueryConfiguration,
    registry: PrometheusCollectorRegistry,
    logger: Logger
) -> ServiceGroup {
    ServiceAssembly.group([.init(service: buildQueryApplication(configuration: configuration, registry: registry, logger: logger))], logger: logger)
}

/// The query service as a Hummingbird application whose PostgreSQL clients and key directory are its
/// own services, started before the server and stopped after it: what the process runs, and what
/// in-process tests drive with `app.test(.router)`.
/// - Parameter keys: where keys come from instead of PostgreSQL (tests).
public func buildQueryApplication(
    configuration: QueryConfiguration,
    registry: PrometheusCollectorRegistry,
    keys: (any KeySource)? = nil,
    logger: Logger
) -> some ApplicationProtocol {
    let postgres = configuration.postgres.makeClient(backgroundLogger: logger, statementTimeout: configuration.statementTimeout)
    // Health asks over a connection of its own: a pool busy with a flood of queries is not a database down.
    let healthPostgres = configuration.postgres.limited(toConnections: 1).makeClient(backgroundLogger: logger, statementTimeout: .seconds(2))
    let route = SampleRoute(
        lookup: SeriesLookup(client: postgres),
        sampler: AsOfSampler(client: postgres),
        aggregates: AggregateReader(
            client: postgres,
            cache: configuration.tierCacheBytes > 0 ? TierStateCache(maximumBytes: configuration.tierCacheBytes * 7 / 8) : nil,
            rawMinutes: configuration.tierCacheBytes > 0 ? RawMinuteCache(maximumBytes: configuration.tierCacheBytes / 8) : nil
        ),
        limit: InFlightLimit(limit: configuration.maxInFlight),
        configuration: configuration
    )
    let auth = ServiceAuth(settings: configuration.auth, postgres: postgres, keys: keys, maxBodyBytes: 1 << 20, service: "sluice-query", logger: logger)
    let health: @Sendable () async -> HealthStatus = {
        do {
            try await healthPostgres.query("select 1", logger: logger)
            return .healthy
        } catch {
            return .unavailable("PostgreSQL does not answer")
        }
    }
    let router = ServiceAssembly.router(context: SluiceRequestContext.self, registry: registry, openAPI: QueryOpenAPI.document, health: health)
    KairosRoutes.registerProbes(on: router, health: health)
    let catalog = KairosCatalog(client: postgres, maximumSeries: configuration.kairosMaxSeries)
    let kairos = KairosRoutes(
        evaluator: KairosEvaluator(catalog: catalog, aggregates: route.aggregates, client: postgres, maximumPoints: configuration.kairosMaxPoints),
        catalog: catalog,
        limit: route.limit,
        maxBodyBytes: 1 << 20
    )
    let data = auth.protecting(router.group())
    data.get("/api") { request, context in try await route.handle(request, context: context) }
    let series = SeriesRoute(search: SeriesSearch(client: postgres), limit: route.limit)
    data.get("/series") { request, context in try await series.handle(request, context: context) }
    kairos.register(on: data)
    let historyPostgres = configuration.history.postgres(from: configuration.postgres).makeClient(backgroundLogger: logger)
    let historyStore = HistoryStore(client: postgres)
    HistoryRoutes(store: historyStore, history: historyPostgres, settings: configuration.history).register(on: data)
    let historyRunner = HistoryRunner(store: historyStore, history: historyPostgres, settings: configuration.history, logger: logger)
    // The schema must exist before the first request; migrating here keeps /health closed until it does.
    return ServiceAssembly.application(
        router: router, address: configuration.http, name: "sluice-query",
        services: [postgres, healthPostgres, historyPostgres] + auth.directories + [historyRunner], logger: logger
    ) {
        try await SchemaMigrator(partitionCount: configuration.partitionCount).migrateRetrying(postgres, logger: logger)
        if let password = configuration.history.password {
            // The history role logs in with the deployment's password (compose sets it); a literal, as ALTER ROLE takes no parameters.
            try await postgres.query(
                PostgresQuery(unsafeSQL: "alter role \(HistorySchema.role) password '\(password.replacingOccurrences(of: "'", with: "''"))'"), logger: logger
            )
        }
    }
}
