import Foundation
import SluiceSigning

/// What a request's `Authorization` header claims, before anything is checked.
///
/// Besides Sluice's own `Bearer <key_id>.<secret>` and signed requests, the schemes agents' clients send
/// carry the same key: InfluxDB 2.x's `Token <key_id>.<secret>`, and HTTP basic auth (InfluxDB 1.x,
/// Prometheus' `basic_auth`) with the key as the password (any user) or the key id as the user and the
/// secret as the password.
enum PresentedCredentials: Equatable {
    case bearer(KeyCredentials)
    case signed(keyID: String, signature: [UInt8])

    /// nil when the header is neither well-formed scheme.
    static func parse(_ header: String) -> PresentedCredentials? {
        let trimmed = header.drop(while: { $0 == " " })
        guard let space = trimmed.firstIndex(of: " ") else { return nil }
        let scheme = trimmed[..<space]
        let rest = trimmed[trimmed.index(after: space)...].drop(while: { $0 == " " })
        switch scheme.lowercased() {
        case "bearer", "token":
            return KeyCredentials(token: rest.trimmingTrailingSpaces).map(PresentedCredentials.bearer)
        case "basic":
            return basic(String(rest.trimmingTrailingSpaces)).map(PresentedCredentials.bearer)
        default:
            break
        }
        guard scheme.uppercased() == RequestSignature.scheme else { return nil }
        var keyID: String?
        var signature: [UInt8]?
        for part in rest.split(separator: ",") {
            let field = Substring(part.drop(while: { $0 == " " })).trimmingTrailingSpaces
            guard let equals = field.firstIndex(of: "=") else { return nil }
            let value = field[field.index(after: equals)...]
            switch field[..<equals] {
            case "Credential": keyID = value.isEmpty ? nil : String(value)
            case "Signature": signature = value.utf8.count == 64 ? Hex.decode(value) : nil
            default: return nil
            }
        }
        guard let keyID, let signature else { return nil }
        return .signed(keyID: keyID, signature: signature)
    }
}

extension PresentedCredentials {
    /// `base64(user:password)`: the password as a whole key, else the user as key id and the password as
    /// secret.
    static func basic(_ encoded: String) -> KeyCredentials? {
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        return AgentCredentials.key(user: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }
}

/// Credentials agents send as a user and a password (basic auth, InfluxDB 1.x's `u` and `p`), read as a
/// Sluice key: the password as a whole `<key_id>.<secret>` (any user), else the user as the key id and
/// the password as the secret.
public enum AgentCredentials {
    public static func key(user: String, password: String) -> KeyCredentials? {
        if let whole = KeyCredentials(token: password) { return whole }
        guard !user.isEmpty, !password.isEmpty, !user.contains("."), !password.contains(".") else { return nil }
        return KeyCredentials(keyID: user, secret: password)
    }
}

extension Substring {
    fileprivate var trimmingTrailingSpaces: Substring {
        let text = self
        var end = text.endIndex
        while end > text.startIndex, text[text.index(before: end)] == " " { end = text.index(before: end) }
        return text[..<end]
    }
}
