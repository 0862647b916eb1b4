import Crypto
import Foundation
import SluiceRuntime
import SluiceSigning

/// The server-wide secret every key's secret is derived from: `secret = HMAC-SHA256(master, key id ‖ salt)`.
///
/// Deriving instead of storing means PostgreSQL holds no secret (a copy of the database authenticates
/// nobody) while every service can still recompute a key's secret, which HMAC verification needs (a
/// stored hash would serve bearer tokens only). The salt is random per key and per rotation, so the
/// master key alone does not yield any secret either.
public struct MasterKey: Sendable {
    private let key: SymmetricKey
    /// A short digest naming this master key, stored with each key so a service started with another
    /// master key says so instead of refusing everyone silently.
    public let fingerprint: String

    public static let minimumBytes = 32

    public init(_ material: [UInt8]) throws(ConfigurationError) {
        guard material.count >= Self.minimumBytes else {
            throw ConfigurationError(
                variable: "SLUICE_AUTH_MASTER_KEY",
                reason: "the master key is \(material.count) bytes; use at least \(Self.minimumBytes) random bytes (`sluice-admin master-key` prints one)"
            )
        }
        key = SymmetricKey(data: material)
        fingerprint = String(Hex.encode(HMAC<SHA256>.authenticationCode(for: Array("sluice master key fingerprint v1".utf8), using: key)).prefix(16))
    }

    /// `SLUICE_AUTH_MASTER_KEY`, or the contents of the file `SLUICE_AUTH_MASTER_KEY_FILE` names (for
    /// Docker secrets); surrounding whitespace is ignored. nil when neither is set.
    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> MasterKey? {
        let path = environment.string("SLUICE_AUTH_MASTER_KEY_FILE", default: "")
        var text = environment.string("SLUICE_AUTH_MASTER_KEY", default: "")
        if !path.isEmpty {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(variable: "SLUICE_AUTH_MASTER_KEY_FILE", reason: "cannot read \(path)")
            }
            text = String(decoding: contents, as: UTF8.self)
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : try MasterKey(Array(trimmed.utf8))
    }

    /// A fresh master key: 48 random bytes, base64 (64 characters).
    public static func generate() -> String {
        Data(SymmetricKey(size: .init(bitCount: 384)).withUnsafeBytes { Array($0) }).base64EncodedString()
    }

    /// A key's secret: 24 bytes (192 bits) of HMAC output, base64url without padding (32 characters,
    /// never a `.`, so `<key_id>.<secret>` splits unambiguously).
    public func secret(keyID: String, salt: [UInt8]) -> String {
        let message = Array("sluice key secret v1\n\(keyID)\n".utf8) + salt
        let code = HMAC<SHA256>.authenticationCode(for: message, using: key)
        return Base64URL.encode(Array(code.prefix(24)))
    }

    /// What a service holding this master key uses to call another Sluice service (the bridge reading
    /// from the query service): a read-everything key derived from the master key, never stored. It
    /// grants nothing a holder of the master key could not grant itself.
    public var internalReader: KeyCredentials {
        KeyCredentials(keyID: Self.internalReaderID, secret: secret(keyID: Self.internalReaderID, salt: Array("internal".utf8)))
    }

    /// Generated ids never start with `~`, so this cannot collide with a stored key.
    public static let internalReaderID = "~internal-reader"
}

/// Base64url without padding (RFC 4648 §5).
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
