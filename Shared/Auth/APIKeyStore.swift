import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// A key as PostgreSQL keeps it: everything but the secret, which is derived (`MasterKey.secret`).
public struct APIKeyRecord: Sendable {
    public var id: String
    public var name: String
    public var rights: Rights
    public var isActive: Bool
    public var salt: [UInt8]
    public var masterFingerprint: String
    public var createdAt: Date
    public var rotatedAt: Date?
    public var revokedAt: Date?
}

/// A key created or rotated just now, with the secret that is shown this once.
public struct IssuedKey: Sendable {
    public var record: APIKeyRecord
    public var secret: String
}

/// Why a key operation did not happen.
public enum APIKeyStoreError: Error, CustomStringConvertible, Equatable {
    case noSuchKey(String)
    case revoked(String)

    public var description: String {
        switch self {
        case .noSuchKey(let id): "there is no key \(id) (`sluice-admin keys list` shows them)"
        case .revoked(let id): "key \(id) is revoked; a revoked key stays revoked, create a new one"
        }
    }
}

/// Creates, lists, rotates and revokes keys in the `api_keys` table.
public struct APIKeyStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func create(name: String, rights: Rights, master: MasterKey) async throws -> IssuedKey {
        let id = Self.newKeyID()
        let salt = Self.newSalt()
        try await client.query(
            """
            insert into api_keys (id, name, rights, state, salt, master_fingerprint)
            values (\(id), \(name), \(rights.entries), 'active', \(ByteBuffer(bytes: salt)), \(master.fingerprint))
            """,
            logger: logger
        )
        guard let record = try await key(id) else { throw APIKeyStoreError.noSuchKey(id) }
        return IssuedKey(record: record, secret: master.secret(keyID: id, salt: salt))
    }

    /// A new salt, so a new secret; the id and rights stay. The old secret stops working once every
    /// service has re-read the keys (`SLUICE_AUTH_REFRESH_MS`).
    public func rotate(_ id: String, master: MasterKey) async throws -> IssuedKey {
        guard let existing = try await key(id) else { throw APIKeyStoreError.noSuchKey(id) }
        guard existing.isActive else { throw APIKeyStoreError.revoked(id) }
        let salt = Self.newSalt()
        try await client.query(
            "update api_keys set salt = \(ByteBuffer(bytes: salt)), master_fingerprint = \(master.fingerprint), rotated_at = now() where id = \(id) and state = 'active'",
            logger: logger
        )
        guard let record = try await key(id), record.isActive else { throw APIKeyStoreError.revoked(id) }
        return IssuedKey(record: record, secret: master.secret(keyID: id, salt: salt))
    }

    /// Revokes a key for good; revoking one already revoked changes nothing.
    public func revoke(_ id: String) async throws -> APIKeyRecord {
        try await client.query(
            "update api_keys set state = 'revoked', revoked_at = now() where id = \(id) and state = 'active'",
            logger: logger
        )
        guard let record = try await key(id) else { throw APIKeyStoreError.noSuchKey(id) }
        return record
    }

    public func key(_ id: String) async throws -> APIKeyRecord? {
        try await records(where: id).first
    }

    /// Every key, oldest first.
    public func all() async throws -> [APIKeyRecord] {
        try await records(where: nil)
    }

    private func records(where id: String?) async throws -> [APIKeyRecord] {
        let columns = "id, name, rights, state, salt, master_fingerprint, created_at, rotated_at, revoked_at"
        let query: PostgresQuery =
            if let id { "select \(unescaped: columns) from api_keys where id = \(id)" } else {
                "select \(unescaped: columns) from api_keys order by created_at, id"
            }
        var records: [APIKeyRecord] = []
        let rows = try await client.query(query, logger: logger)
        for try await (id, name, rights, state, salt, fingerprint, created, rotated, revoked) in rows.decode(
            (String, String, [String], String, ByteBuffer, String, Date, Date?, Date?).self
        ) {
            records.append(
                APIKeyRecord(
                    id: id, name: name, rights: (try? Rights(entries: rights)) ?? Rights(), isActive: state == "active",
                    salt: Array(buffer: salt), masterFingerprint: fingerprint, createdAt: created, rotatedAt: rotated, revokedAt: revoked
                )
            )
        }
        return records
    }

    /// 20 characters of base32 (100 random bits): easy to read out, never a `.` or a leading `~`.
    static func newKeyID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }

    static func newSalt() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }
}
