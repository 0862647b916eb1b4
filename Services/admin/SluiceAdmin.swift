// sluice-admin: creates, lists, rotates and revokes API keys in the database the services read them from,
// and rebuilds the rollup tiers after rows were loaded by SQL.
import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SluiceAuth
import SluiceRuntime
import SluiceStorage
import Synchronization

@main
struct SluiceAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-admin",
        abstract: "Administers Sluice: API keys, the master key their secrets derive from, the rollup tiers and retention.",
        discussion: "Reads the same SLUICE_PG_* settings as the services, and SLUICE_AUTH_MASTER_KEY (or _FILE) to issue secrets.",
        subcommands: [Keys.self, NewMasterKey.self, Rollups.self, RetentionCommand.self]
    )
}

struct Rollups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Maintains the rollup tiers.",
        subcommands: [Rebuild.self]
    )

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Rebuilds the 1-minute and 1-hour tiers from the raw rows, after rows were loaded into measurements by SQL (the writer keeps tiers only for what it stores). Safe while the services run; takes minutes for tens of millions of rows."
        )

        func run() async throws {
            try await AdminEnvironment.withDatabase { client, logger in
                let started = ContinuousClock.now
                let lastReport = Mutex(started)
                let written = try await RollupRebuild.rebuild(client, logger: logger) { done, total, rows in
                    // Progress on standard error, at most every 2 s, and at the end.
                    let now = ContinuousClock.now
                    let due = lastReport.withLock { last in
                        guard done == total || now - last >= .seconds(2) else { return false }
                        last = now
                        return true
                    }
                    guard due else { return }
                    FileHandle.standardError.write(Data("series \(done) of \(total), \(rows) rows read\n".utf8))
                }
                for (tier, rows) in written {
                    print("\(tier.table): \(rows) rows")
                }
                print("rebuilt in \(ContinuousClock.now - started)")
            }
        }
    }
}

struct NewMasterKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master-key",
        abstract: "Prints a new random master key (48 bytes, base64) for SLUICE_AUTH_MASTER_KEY. Keep it secret; every service needs the same one."
    )

    func run() {
        print(MasterKey.generate())
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Creates, lists, rotates and revokes API keys.",
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Creates a key and prints {\"key_id\", \"secret\", \"rights\"} as one JSON line; the secret is shown only now."
        )
        @Option(help: "A name that says who or what holds the key.")
        var name: String
        @Option(help: "Comma-separated domain:permissions, permissions r, w or rw; '*' for every domain. Example: 'acme:rw,*:r'.")
        var rights: String

        func validate() throws {
            do { _ = try Rights.parse(rights) } catch { throw ValidationError("--rights: \(error)") }
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--name must not be empty") }
        }

        func run() async throws {
            let rights = try Rights.parse(rights)
            let master = try AdminEnvironment.masterKey()
            try await AdminEnvironment.withKeyStore { store in
                printJSON(IssuedKeyLine(try await store.create(name: name, rights: rights, master: master)))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prints every key as one JSON line each (never a secret).")

        func run() async throws {
            try await AdminEnvironment.withKeyStore { store in
                for record in try await store.all() { printJSON(KeyLine(record)) }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revokes a key for good: every service refuses it within SLUICE_AUTH_REFRESH_MS.")
        @Argument(help: "The key id.")
        var keyID: String

        func run() async throws {
            try await AdminEnvironment.withKeyStore { store in printJSON(KeyLine(try await store.revoke(keyID))) }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Gives a key a new secret (same id and rights) and prints it like create; the old secret stops working within SLUICE_AUTH_REFRESH_MS."
        )
        @Argument(help: "The key id.")
        var keyID: String

        func run() async throws {
            let master = try AdminEnvironment.masterKey()
            try await AdminEnvironment.withKeyStore { store in
                printJSON(IssuedKeyLine(try await store.rotate(keyID, master: master)))
            }
        }
    }
}

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

struct IssuedKeyLine: Encodable {
    var key_id: String
    var name: String
    var secret: String
    var rights: [String]

    init(_ issued: IssuedKey) {
        key_id = issued.record.id
        name = issued.record.name
        secret = issued.secret
        rights = issued.record.rights.entries
    }
}

struct KeyLine: Encodable {
    var key_id: String
    var name: String
    var rights: [String]
    var state: String
    var created_at: Date
    var rotated_at: Date?
    var revoked_at: Date?

    init(_ record: APIKeyRecord) {
        key_id = record.id
        name = record.name
        rights = record.rights.entries
        state = record.isActive ? "active" : "revoked"
        created_at = record.createdAt
        rotated_at = record.rotatedAt
        revoked_at = record.revokedAt
    }
}

func printJSON(_ value: some Encodable) {
    let encoder = JSONEncoder.sorted
    encoder.dateEncodingStrategy = .iso8601
    guard let data = try? encoder.encode(value) else { return }
    print(String(decoding: data, as: UTF8.self))
}
