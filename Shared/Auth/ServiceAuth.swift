import Logging
import PostgresNIO
import ServiceLifecycle

/// What a service adds to authenticate its data routes: the middleware, and the key directory that
/// must run beside the HTTP server.
public struct ServiceAuth: Sendable {
    public let middleware: AuthMiddleware
    /// Nil when auth is off; otherwise a service for the process's group, after PostgreSQL's client.
    public let directory: KeyDirectory?

    /// - Parameters:
    ///   - postgres: the client the key list is read through (a service of the same group); may be nil
    ///     only when auth is off.
    ///   - maxBodyBytes: the largest body a signed request to this service may have.
    public init(settings: AuthSettings, postgres: PostgresClient?, maxBodyBytes: Int, service: String, logger: Logger) {
        guard settings.mode == .required, let master = settings.masterKey, let postgres else {
            precondition(settings.mode == .off, "a service that requires keys reads them from PostgreSQL")
            logger.warning(
                "AUTH IS OFF: SLUICE_AUTH=off lets anyone who can reach \(service) read and write every domain. Set SLUICE_AUTH=required for anything but a local run."
            )
            middleware = AuthMiddleware(authenticator: nil)
            directory = nil
            return
        }
        let directory = KeyDirectory(
            source: APIKeyStore(client: postgres, logger: logger), master: master, refreshInterval: settings.refreshInterval, logger: logger
        )
        self.directory = directory
        middleware = AuthMiddleware(authenticator: Authenticator(directory: directory, settings: settings, maxBodyBytes: maxBodyBytes))
        logger.info("auth required: every data endpoint needs a key", metadata: ["master_key": "\(master.fingerprint)"])
    }

    /// The directory as a group entry, when there is one.
    public var services: [ServiceGroupConfiguration.ServiceConfiguration] {
        directory.map { [.init(service: $0)] } ?? []
    }
}
