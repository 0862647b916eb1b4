import ArgumentParser
import Logging
import PostgresNIO
import SluiceAuth
import SluiceRuntime
import SluiceStorage

/// The database and master key, from the same environment the services read.
enum AdminEnvironment {
    static func masterKey() throws -> MasterKey {
        guard let master = try MasterKey.fromEnvironment(EnvironmentReader()) else {
            throw ValidationError(
                "set SLUICE_AUTH_MASTER_KEY (or SLUICE_AUTH_MASTER_KEY_FILE) to the master key the services use; `sluice-admin master-key` makes one")
        }
        return master
    }

    /// Runs `body` with a key store on a migrated database, so keys can be made before any service ran.
    static func withKeyStore(_ body: @escaping @Sendable (APIKeyStore) async throws -> Void) async throws {
        try await withDatabase { client, logger in
            do {
                try await body(APIKeyStore(client: client, logger: logger))
            } catch let error as APIKeyStoreError {
                throw AdminFailure(error.description)
            }
        }
    }

    /// Runs `body` with a client of a migrated database.
    static func withDatabase(_ body: @escaping @Sendable (PostgresClient, Logger) async throws -> Void) async throws {
        var logger = Logger(label: "sluice-admin")
        // Failures reach the operator as errors thrown below; the client's own chatter would only confuse.
        logger.logLevel = .error
        let environment = EnvironmentReader()
        let settings = try PostgresSettings.fromEnvironment(environment).limited(toConnections: 1)
        let partitions = try PipelineSettings.fromEnvironment(environment).measurementPartitions
        let client = settings.makeClient(backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            do {
                try await SchemaMigrator(partitionCount: partitions).migrate(client, logger: logger)
            } catch {
                throw AdminFailure("cannot reach or prepare PostgreSQL at \(settings.host):\(settings.port)/\(settings.database): \(String(reflecting: error))")
            }
            try await body(client, logger)
        }
    }
}

struct AdminFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
