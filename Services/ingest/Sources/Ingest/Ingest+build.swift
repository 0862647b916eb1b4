import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import SluiceAuth
import SluiceKafka
import SluiceRuntime

/// Builds the ingest process: PostgreSQL (to read the writer's progress), the Kafka producer, the backlog
/// monitor, then the HTTP server in front of them. Tests call it too.
///
/// Shutdown runs in reverse: the server stops accepting and finishes its requests, then the producer
/// flushes what is still in flight.
public func buildIngest(
    configuration: IngestConfiguration,
    registry: PrometheusCollectorRegistry,
    logger: Logger
) throws -> ServiceGroup {
    let postgres = configuration.postgres.makeClient(backgroundLogger: logger)
    let producer = try KafkaProducer(configuration: configuration.kafka, logger: logger)
    let backlog = BacklogMonitor(producer: producer, postgres: postgres, configuration: configuration, logger: logger)
    let save = SaveRoute(producer: producer, backlog: backlog, configuration: configuration)
    let auth = ServiceAuth(settings: configuration.auth, postgres: postgres, maxBodyBytes: configuration.maxBodyBytes, service: "sluice-ingest", logger: logger)
    let router = ServiceAssembly.router(context: SluiceRequestContext.self, registry: registry, openAPI: IngestOpenAPI.document)
    // The byte budget comes first: a signed request's body is read whole while its signature is checked.
    router.group()
        .add(middleware: BodyBudgetMiddleware(bodies: InFlightLimit(limit: configuration.maxInFlightBytes), configuration: configuration))
        .add(middleware: auth.middleware)
        .post("/save") { request, context in try await save.handle(request, context: context) }
    let app = ServiceAssembly.application(router: router, address: configuration.http, name: "sluice-ingest", logger: logger)
    return ServiceAssembly.group(
        [.init(service: postgres), .init(service: producer), .init(service: backlog)] + auth.services + [.init(service: app)],
        logger: logger
    )
}
