// sluice-writer: consumes measurements from Kafka into partitioned PostgreSQL tables, exactly once.
import SluiceRuntime
import Writer

let (registry, logger) = ProcessBootstrap.run(label: "sluice-writer")
do {
    let configuration = try WriterConfiguration.fromEnvironment()
    try await buildWriter(configuration: configuration, registry: registry, logger: logger).run()
} catch {
    logger.critical("sluice-writer stopped on an error", metadata: ["error": "\(error)"])
    exitWithFailure()
}
