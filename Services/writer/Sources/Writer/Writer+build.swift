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
    let schemaReady = ReadySignal()
    let partitionsReady = ReadySignal()
    let refresherReady = ReadySignal()
    let rawRetention = RawRetentionWindow(period: configuration.retention.effective(.raw))
    let maintenance = PartitionMaintenance(
        client: postgres, environmentRetention: configuration.retention, periods: configuration.partitionPeriods,
        interval: configuration.partitionCheckInterval,
        rawRetention: rawRetention, schemaReady: partitionsReady, logger: logger
    )
    let refresher = RollupRefreshService(
        refresher: RollupRefresher(client: postgres), interval: configuration.rollupRefreshInterval, schemaReady: refresherReady, logger: logger
    )
    let writer = WriterService(
        consumer: consumer,
        store: BatchStore(client: postgres, consumerGroup: configuration.consumerGroup, foldsRollups: configuration.rollups),
        configuration: configuration,
        logger: logger,
        changeFeed: changeFeed,
        rawRetention: rawRetention,
        prepare: {
            // Released by the migration, or by a stop that came first (then the writer returns unstarted).
            await schemaReady.waitUnlessStopping()
        }
    )
    let router = ServiceAssembly.router(registry: registry, openAPI: WriterOpenAPI.document) {
        writer.unhealthyReason.map(HealthStatus.unavailable) ?? .healthy
    }
    // Migrated before the server listens, as in every service, so /health means the schema is there; the
    // consume loop waits for the same moment.
    let app = ServiceAssembly.application(router: router, address: configuration.http, name: "sluice-writer", logger: logger) {
        if try await SchemaMigrator(partitionCount: configuration.partitionCount).migrateRetrying(postgres, logger: logger) {
            schemaReady.open()
            partitionsReady.open()
            refresherReady.open()
        }
    }
    return ServiceAssembly.group(
        [
            .init(service: postgres),
            .init(service: producer),
            .init(service: app),
            .init(service: changeFeed),
            .init(service: maintenance),
            .init(service: refresher),
            .init(service: writer, successTerminationBehavior: .gracefullyShutdownGroup),
        ],
        logger: logger
    )
}
