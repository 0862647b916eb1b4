import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import SluiceKafka
import SluiceRuntime
import SluiceStorage

/// Builds the writer process: PostgreSQL client, schema migration, the consume loop, and its HTTP server
/// for `/health` and `/metrics`. Tests call it too.
public func buildWriter(
    configuration: WriterConfiguration,
    registry: PrometheusCollectorRegistry,
    logger: Logger
) throws -> ServiceGroup {
    let postgres = configuration.postgres.makeClient(backgroundLogger: logger)
    let consumer = try KafkaConsumer(configuration: configuration.kafka, groupID: configuration.consumerGroup, logger: logger)
    let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: configuration.kafka.bootstrapServers), logger: logger)
    let changeFeed = ChangeFeed(producer: producer, topic: configuration.changesTopic, logger: logger)
    let writer = WriterService(
        consumer: consumer,
        store: BatchStore(client: postgres, consumerGroup: configuration.consumerGroup),
        configuration: configuration,
        logger: logger,
        changeFeed: changeFeed,
        prepare: {
            try await SchemaMigrator(partitionCount: configuration.partitionCount).migrateRetrying(postgres, logger: logger)
        }
    )
    let router = ServiceAssembly.router(registry: registry, openAPI: WriterOpenAPI.document) {
        writer.unhealthyReason.map(HealthStatus.unavailable) ?? .healthy
    }
    let app = ServiceAssembly.application(router: router, address: configuration.http, name: "sluice-writer", logger: logger)
    return ServiceAssembly.group(
        [
            .init(service: postgres),
            .init(service: producer),
            .init(service: app),
            .init(service: changeFeed),
            .init(service: writer, successTerminationBehavior: .gracefullyShutdownGroup),
        ],
        logger: logger
    )
}
