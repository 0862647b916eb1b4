// sluice-bridge: serves sliding windows from a cache that backing jobs keep fresh.
import Bridge
import SluiceRuntime

let (registry, logger) = ProcessBootstrap.run(label: "sluice-bridge")
do {
    let configuration = try BridgeConfiguration.fromEnvironment()
    try await buildBridge(configuration: configuration, registry: registry, logger: logger).run()
} catch {
    logger.critical("sluice-bridge stopped on an error", metadata: ["error": "\(error)"])
    exitWithFailure()
}
