import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The `api_keys` table's statements, beside the migration that makes it (`SchemaMigrator`, version 4).
/// Rights travel as their text entries here; `APIKeyStore` (SluiceAuth) gives them meaning.
public enum APIKeyRows {
    /// A row as stored: everything but the secret, which is derived from the master key and the salt.
    public struct Row: Sendable, Equatable {
        public var id: String
        public var name: String
        public var rights: [String]
        public var isActive: Bool
        public var salt: [UInt8]
        public var masterFingerprint: String
        public var createdAt: Date
        public var rotatedAt: Date?
        public var revokedAt: Date?

        public init(
            id: String, name: String, rights: [String], isActive: Bool, salt: [UInt8], masterFingerprint: String, createdAt: Date, rotatedAt: Date?,
            revokedAt: Date?
        ) {
            self.id = id
            self.name = name
            self.rights = rights
            self.isActive = isActive
            self.salt = salt
            self.masterFingerprint = masterFingerprint
            self.createdAt = createdAt
            self.rotatedAt = rotatedAt
            self.revokedAt = revokedAt
        }
    }

    public static func insert(
        id: String, name: String, rights: [String], salt: [UInt8], masterFingerprint: String, client: PostgresClient, logger: Logger
    ) async throws {
        try await client.query(
            """
            insert into api_keys (id, name, rights, state, salt, master_fingerprint)
            values (\(id), \(name), \(rights), 'active', \(ByteBuffer(bytes: salt)), \(masterFingerprint))
            """,
            logger: logger
        )
    }

    /// Gives an active key a new salt; a revoked key is left as it is.
    public static func rotate(id: String, salt: [UInt8], masterFingerprint: String, client: PostgresClient, logger: Logger) async throws {
        try await client.query(
            "update api_keys set salt = \(ByteBuffer(bytes: salt)), master_fingerprint = \(masterFingerprint), rotated_at = now() where id = \(id) and state = 'active'",
            logger: logger
        )
    }

    /// Revokes a key for good; revoking one already revoked changes nothing.
    public static func revoke(id: String, client: PostgresClient, logger: Logger) async throws {
        try await client.query("update api_keys set state = 'revoked', revoked_at = now() where id = \(id) and state = 'active'", logger: logger)
    }

    /// One key's row, or every row, oldest first.
    public static func select(id: String?, client: PostgresClient, logger: Logger) async throws -> [Row] {
        let columns = "id, name, rights, state, salt, master_fingerprint, created_at, rotated_at, revoked_at"
        let query: PostgresQuery =
            if let id { "select \(unescaped: columns) from api_keys where id = \(id)" } else {
                "select \(unescaped: columns) from api_keys order by created_at, id"
            }
        var rows: [Row] = []
        for try await (id, name, rights, state, salt, fingerprint, created, rotated, revoked) in try await client.query(query, logger: logger).decode(
            (String, String, [String], String, ByteBuffer, String, Date, Date?, Date?).self
        ) {
            rows.append(
                Row(
                    id: id, name: name, rights: rights, isActive: state == "active", salt: Array(buffer: salt), masterFingerprint: fingerprint,
                    createdAt: created, rotatedAt: rotated, revokedAt: revoked
                )
            )
        }
        return rows
    }
}
