import Crypto
import Foundation
import Logging
import PostgresNIO
import SluiceStorage

/// A key as PostgreSQL keeps it (`APIKeyRows.Row`: everything but the secret, which is derived by
/// `MasterKey.secret`), with its rights read; the row's other fields read through (`record.id`).
@dynamicMemberLookup
public struct APIKeyRecord: Sendable {
    public var row: APIKeyRows.Row
    public var rights: Rights

    init(row: APIKeyRows.Row) {
        self.row = row
        // Stored entries were checked when the key was made; an entry this version cannot read grants nothing.
        rights = (try? Rights(entries: row.rights)) ?? Rights()
    }

    /// A key made in memory (tests, `FixedKeys`).
    init(
        id: String, name: String, rights: Rights, isActive: Bool, salt: [UInt8], masterFingerprint: String, createdAt: Date, rotatedAt: Date?,
        revokedAt: Date?
    ) {
        row = APIKeyRows.Row(
            id: id, name: name, rights: rights.entries, isActive: isActive, salt: salt, masterFingerprint: masterFingerprint, createdAt: createdAt,
            rotatedAt: rotatedAt, revokedAt: revokedAt
        )
        self.rights = rights
    }

    public subscript<Value>(dynamicMember field: KeyPath<APIKeyRows.Row, Value>) -> Value {
        row[keyPath: field]
    }
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
        try await APIKeyRows.select(id: id, client: client, logger: logger).map(APIKeyRecord.init(row:))
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
