/// Where a service's HTTP server listens.
public struct ServiceAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `SLUICE_BIND_HOST` (default 127.0.0.1, shared by all services) and the service's own port variable.
    public static func fromEnvironment(
        _ environment: EnvironmentReader,
        portVariable: String,
        defaultPort: Int
    ) throws(ConfigurationError) -> ServiceAddress {
        ServiceAddress(
            host: environment.string("SLUICE_BIND_HOST", default: "127.0.0.1"),
            port: try environment.port(portVariable, default: defaultPort)
        )
    }
}
