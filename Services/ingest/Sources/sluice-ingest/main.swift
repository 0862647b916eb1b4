// sluice-ingest: accepts measurements over HTTP and publishes them to Kafka.
import Ingest
import SluiceRuntime

let (registry, logger) = ProcessBootstrap.run(label: "sluice-ingest")
do {
    let configuration = try IngestConfiguration.fromEnvironment()
    try await buildIngest(configuration: configuration, registry: registry, logger: logger).run()
} catch {
    logger.critical("sluice-ingest stopped on an error", metadata: ["error": "\(error)"])
    exitWithFailure()
}
