/// A key id and its secret, as a client holds them.
///
/// Neither part contains a `.`, so the bearer form `<key_id>.<secret>` splits unambiguously.
public struct KeyCredentials: Sendable, Equatable {
    public var keyID: String
    public var secret: String

    public init(keyID: String, secret: String) {
        self.keyID = keyID
        self.secret = secret
    }

    /// Reads `<key_id>.<secret>`; nil when either part is missing.
    public init?(token: some StringProtocol) {
        guard let dot = token.firstIndex(of: "."), dot != token.startIndex, token.index(after: dot) != token.endIndex else { return nil }
        keyID = String(token[..<dot])
        secret = String(token[token.index(after: dot)...])
        guard !secret.contains(".") else { return nil }
    }

    /// `<key_id>.<secret>`, for `Authorization: Bearer …` and formats that carry one key string.
    public var token: String { "\(keyID).\(secret)" }

    public var bearerAuthorization: String { "Bearer \(token)" }
}
