import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle

/// What a service adds to authenticate its data routes: the middleware, and the key directory that
/// must run beside the HTTP server.
public struct ServiceAuth: Sendable {
    let middleware: AuthMiddleware
    /// Nil when auth is off; otherwise a service for the process's group, after PostgreSQL's client.
    public let directory: KeyDirectory?

    /// - Parameters:
    ///   - postgres: the client the key list is read through (a service of the same group); may be nil
    ///     only when auth is off or `keys` are given.
    ///   - keys: where the keys come from instead of PostgreSQL's `api_keys` (in-process tests).
    ///   - maxBodyBytes: the largest body a signed request to this service may have.
    public init(
        settings: AuthSettings, postgres: PostgresClient?, keys: (any KeySource)? = nil, maxBodyBytes: Int, service: String, logger: Logger
    ) {
        guard settings.mode == .required, let master = settings.masterKey, let source = keys ?? postgres.map({ APIKeyStore(client: $0, logger: logger) }) else {
            precondition(settings.mode == .off, "a service that requires keys reads them from PostgreSQL")
            logger.warning(
                "AUTH IS OFF: SLUICE_AUTH=off lets anyone who can reach \(service) read and write every domain. Set SLUICE_AUTH=required for anything but a local run."
            )
            middleware = AuthMiddleware(authenticator: nil)
            directory = nil
            return
        }
        let directory = KeyDirectory(source: source, master: master, refreshInterval: settings.refreshInterval, logger: logger)
        self.directory = directory
        middleware = AuthMiddleware(authenticator: Authenticator(directory: directory, settings: settings, maxBodyBytes: maxBodyBytes))
        logger.info("auth required: every data endpoint needs a key", metadata: ["master_key": "\(master.fingerprint)"])
    }

    /// The directory, when there is one, as an application's service.
    public var directories: [any Service] {
        directory.map { [$0] } ?? []
    }

    /// The routes of a group that need a key: the one way a service puts routes behind authentication,
    /// after whatever must see the request first (a body budget, credentials carried in the query).
    public func protecting(_ group: RouterGroup<SluiceRequestContext>) -> RouterGroup<SluiceRequestContext> {
        group.add(middleware: middleware)
    }
}
