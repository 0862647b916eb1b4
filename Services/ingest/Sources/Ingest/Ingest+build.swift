import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import SluiceKafka
import SluiceRuntime

/// Builds the ingest process: the Kafka producer, then the HTTP server in front of it. Tests call it too.
///
/// Shutdown runs in reverse: the server stops accepting and finishes its requests, then the producer
/// flushes what is still in flight.
public func buildIngest(
    configuration: IngestConfiguration,
    registry: PrometheusCollectorRegistry,
    logger: Logger
) throws -> ServiceGroup {
    let producer = try KafkaProducer(configuration: configuration.kafka, logger: logger)
    let save = SaveRoute(producer: producer, configuration: configuration)
    let router = ServiceAssembly.router(registry: registry)
    router.post("/save") { request, context in try await save.handle(request, context: context) }
    let app = ServiceAssembly.application(router: router, address: configuration.http, name: "sluice-ingest", logger: logger)
    return ServiceAssembly.group([.init(service: producer), .init(service: app)], logger: logger)
}
