import Crypto
import Foundation
import Logging
import PostgresNIO
import SluiceStorage

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
        try await APIKeyRows.insert(
            id: id, name: name, rights: rights.entries, salt: salt, masterFingerprint: master.fingerprint, client: client, logger: logger
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
        try await APIKeyRows.rotate(id: id, salt: salt, masterFingerprint: master.fingerprint, client: client, logger: logger)
        guard let record = try await key(id), record.isActive else { throw APIKeyStoreError.revoked(id) }
        return IssuedKey(record: record, secret: master.secret(keyID: id, salt: salt))
    }

    /// Revokes a key for good; revoking one already revoked changes nothing.
    public func revoke(_ id: String) async throws -> APIKeyRecord {
        try await APIKeyRows.revoke(id: id, client: client, logger: logger)
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
        try await APIKeyRows.select(id: id, client: client, logger: logger).map { row in
            APIKeyRecord(
                id: row.id, name: row.name, rights: (try? Rights(entries: row.rights)) ?? Rights(), isActive: row.isActive, salt: row.salt,
                masterFingerprint: row.masterFingerprint, createdAt: row.createdAt, rotatedAt: row.rotatedAt, revokedAt: row.revokedAt
            )
        }
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
