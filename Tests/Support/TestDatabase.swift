import Foundation
import Logging
import PostgresNIO

/// A database of its own for one test, dropped afterwards, so tests never see each other's rows.
public struct TestDatabase: Sendable {
    public let settings: TestSettings
    public let name: String

    /// Creates a fresh database, runs `body` with a running client for it, then drops it.
    public static func with<T: Sendable>(
        _ body: (TestDatabase, PostgresClient) async throws -> T
    ) async throws -> T {
        let settings = try TestSettings.fromEnvironment()
        let name = "sluice_t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try await withClient(settings: settings, database: "postgres") { admin in
            _ = try await admin.query(PostgresQuery(unsafeSQL: "create database \(name)"))
        }
        let database = TestDatabase(settings: settings, name: name)
        do {
            let result = try await withClient(settings: settings, database: name) { try await body(database, $0) }
            try await database.drop()
            return result
        } catch {
            try? await database.drop()
            throw error
        }
    }

    /// Environment variables that point a Sluice service at this database.
    public var serviceEnvironment: [String: String] {
        [
            "SLUICE_PG_HOST": settings.postgresHost,
            "SLUICE_PG_PORT": String(settings.postgresPort),
            "SLUICE_PG_USER": settings.postgresUser,
            "SLUICE_PG_DATABASE": name,
        ]
    }

    private func drop() async throws {
        try await Self.withClient(settings: settings, database: "postgres") { admin in
            _ = try await admin.query(PostgresQuery(unsafeSQL: "drop database if exists \(name) with (force)"))
        }
    }

    /// Runs `body` with a PostgresClient whose `run()` is kept going for the duration.
    public static func withClient<T: Sendable>(
        settings: TestSettings,
        database: String,
        _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        let configuration = PostgresClient.Configuration(
            host: settings.postgresHost,
            port: settings.postgresPort,
            username: settings.postgresUser,
            password: nil,
            database: database,
            tls: .disable
        )
        let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "test-postgres"))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
