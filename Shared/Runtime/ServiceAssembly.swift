import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// The pieces every Sluice process is assembled from, so the services differ only in their own routes.
public enum ServiceAssembly {
    /// A router with request metrics, JSON errors and the `/health`, `/metrics` and `/openapi.json` routes
    /// every service answers.
    /// - Parameter openAPI: the service's OpenAPI document (`OpenAPIDocument.json`).
    public static func router<Context: RequestContext>(
        context: Context.Type = BasicRequestContext.self,
        registry: PrometheusCollectorRegistry,
        openAPI: [UInt8],
        health: @escaping @Sendable () async -> HealthStatus = { .healthy }
    ) -> Router<Context> {
        let router = Router(context: Context.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(openAPI: openAPI))
        router.addOperationalRoutes(registry: registry, check: health)
        router.get("/openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: openAPI)))
        }
        return router
    }

    /// The HTTP server for a router on the service's configured address.
    /// - Parameters:
    ///   - services: what the routes need running (clients, directories): started before the server,
    ///     stopped after it.
    ///   - beforeServerStarts: runs before the server listens, so `/health` answers only once it has
    ///     succeeded: every service that keeps a schema migrates it here, the one way they all do.
    public static func application<Context: RequestContext>(
        router: Router<Context>,
        address: ServiceAddress,
        name: String,
        services: [any Service] = [],
        logger: Logger,
        beforeServerStarts: (@Sendable () async throws -> Void)? = nil
    ) -> some ApplicationProtocol where Context.Source == ApplicationRequestContextSource {
        var application = Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: name),
            services: services,
            logger: logger
        )
        if let beforeServerStarts { application.beforeServerStarts(perform: beforeServerStarts) }
        return application
    }

    /// One group per process, dependencies first; SIGTERM and SIGINT shut it down in reverse order.
    public static func group(_ services: [ServiceGroupConfiguration.ServiceConfiguration], logger: Logger) -> ServiceGroup {
        ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }
}
