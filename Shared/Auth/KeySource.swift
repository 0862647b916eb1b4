/// Where a key directory reads the keys from: PostgreSQL's `api_keys` (`APIKeyStore`) in every service,
/// a fixed list in tests of the authenticator.
public protocol KeySource: Sendable {
    /// Every key, active and revoked.
    func all() async throws -> [APIKeyRecord]
}

extension APIKeyStore: KeySource {}

/// A fixed list of keys.
public struct FixedKeys: KeySource {
    public var records: [APIKeyRecord]

    public init(_ records: [APIKeyRecord]) {
        self.records = records
    }

    public func all() async throws -> [APIKeyRecord] { records }
}
