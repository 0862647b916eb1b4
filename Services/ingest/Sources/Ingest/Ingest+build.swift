import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import SluiceAuth
import SluiceKafka
import SluiceRuntime

/// Builds the ingest process: one application whose services are PostgreSQL (to read the writer's
/// progress), the Kafka producer, the backlog monitor, the key directory and Graphite's listener (see
/// `buildIngestApplication`).
public func buildIngest(
    configuration: IngestConfiguration,
    registry: PrometheusCollectorRegistry,
    logger: Logger
) throws -> ServiceGroup {
    ServiceAssembly.group([.init(service: try buildIngestApplication(configuration: configuration, registry: registry, logger: logger))], logger: logger)
}

/// The ingest service as a Hummingbird application whose clients, producer and listeners are its own
/// services: what the process runs, and what in-process tests drive with `app.test(.router)`.
///
/// Services start before the server and stop after it, in reverse: the server stops accepting and
/// finishes its requests, Graphite's listener stops, then the producer flushes what both published.
/// - Parameter keys: where keys come from instead of PostgreSQL (tests).
public func buildIngestApplication(
    configuration: IngestConfiguration,
    registry: PrometheusCollectorRegistry,
    keys: (any KeySource)? = nil,
    logger: Logger
) throws -> some ApplicationProtocol {
    let postgres = configuration.postgres.makeClient(backgroundLogger: logger)
    let producer = try KafkaProducer(configuration: configuration.kafka, logger: logger)
    let backlog = BacklogMonitor(producer: producer, postgres: postgres, configuration: configuration, logger: logger)
    let publisher = MeasurementPublisher(producer: producer, backlog: backlog, configuration: configuration)
    let save = SaveRoute(publisher: publisher, configuration: configuration)
    let kairos = KairosWriteRoute(publisher: publisher, configuration: configuration)
    let influx = InfluxWriteRoute(publisher: publisher, configuration: configuration)
    let prometheus = PrometheusWriteRoute(publisher: publisher, configuration: configuration)
    let flux = FluxRoutes(publisher: publisher, configuration: configuration)
    let auth = ServiceAuth(
        settings: configuration.auth, postgres: postgres, keys: keys, maxBodyBytes: configuration.maxBodyBytes, service: "sluice-ingest", logger: logger
    )
    let router = ServiceAssembly.router(context: SluiceRequestContext.self, registry: registry, openAPI: IngestOpenAPI.document)
    // The byte budget comes first: a signed request's body is read whole while its signature is checked.
    let bodyBudget = InFlightLimit(limit: configuration.maxInFlightBytes)
    let writes = auth.protecting(router.group().add(middleware: BodyBudgetMiddleware(bodies: bodyBudget, configuration: configuration)))
    writes.post("/save") { request, context in try await save.handle(request, context: context) }
    for path: RouterPath in ["/api/v1/datapoints", "/api/v1/:domain/datapoints"] {
        writes.post(path) { request, context in try await kairos.handle(request, context: context) }
    }
    writes.post("/api/v1/write") { request, context in try await prometheus.handle(request, context: context) }
    // InfluxDB's clients may carry their key as `u`/`p` query parameters: made a header before auth.
    let influxWrites = auth.protecting(
        router.group()
            .add(middleware: BodyBudgetMiddleware(bodies: bodyBudget, configuration: configuration))
            .add(middleware: QueryCredentialsMiddleware())
    )
    influxWrites.post("/write") { request, context in try await influx.handle(request, context: context, api: .v1) }
    influxWrites.post("/api/v2/write") { request, context in try await influx.handle(request, context: context, api: .v2) }
    // Flux carries its key in the query or the body, and answers every refusal in its own shape.
    let fluxWrites = auth.protecting(
        router.group("/flux")
            .add(middleware: FluxErrorMiddleware())
            .add(middleware: BodyBudgetMiddleware(bodies: bodyBudget, configuration: configuration))
            .add(middleware: FluxKeyMiddleware(maxBodyBytes: configuration.maxBodyBytes))
    )
    fluxWrites.get("/metric_data") { request, context in try await flux.metricData(request, context: context) }
    fluxWrites.post("/metric_data_post") { request, context in try await flux.metricDataPost(request, context: context) }
    fluxWrites.post("/populate_metric") { request, context in try await flux.populateMetric(request, context: context) }
    // What InfluxDB clients ask before writing, to see that a server is there.
    router.on("/ping", method: .get) { _, _ in InfluxPing.response }
    router.on("/ping", method: .head) { _, _ in InfluxPing.response }
    let graphite = configuration.graphite.map {
        GraphiteListener(settings: $0, publisher: publisher, retryAfter: .seconds(configuration.retryAfterSeconds), logger: logger)
    }
    let services: [any Service] = [postgres, producer, backlog] + auth.directories + (graphite.map { [$0] } ?? [])
    return ServiceAssembly.application(router: router, address: configuration.http, name: "sluice-ingest", services: services, logger: logger)
}
