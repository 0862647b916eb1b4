// sluice-query: downsamples stored measurements with as-of sampling over HTTP.
import Query
import SluiceRuntime

let (registry, logger) = ProcessBootstrap.run(label: "sluice-query")
do {
    let configuration = try QueryConfiguration.fromEnvironment()
    try await buildQuery(configuration: configuration, registry: registry, logger: logger).run()
} catch {
    logger.critical("sluice-query stopped on an error", metadata: ["error": "\(error)"])
    exitWithFailure()
}
