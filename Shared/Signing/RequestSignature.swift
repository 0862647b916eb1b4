import Crypto
import Foundation

/// Sluice's signed-request scheme: HMAC-SHA256 with the key's secret over the whole request.
///
///     Authorization: SLUICE-HMAC-SHA256 Credential=<key_id>, Signature=<hex>
///     X-Sluice-Date: <unix seconds>
///
/// The signature covers `METHOD \n PATH \n CANONICAL_QUERY \n DATE \n hex(SHA256(body))`, so neither the
/// target, the parameters, the time nor a byte of the body can change without the server noticing. The
/// date bounds how long a captured request stays usable; the server remembers accepted signatures for
/// that long, so each is usable once.
public enum RequestSignature {
    public static let scheme = "SLUICE-HMAC-SHA256"
    public static let dateHeader = "X-Sluice-Date"

    /// The text the HMAC is computed over.
    /// - Parameters:
    ///   - path: the path exactly as sent on the request line, without the query.
    ///   - canonicalQuery: `CanonicalQuery.encode(…)` of the request's parameters.
    ///   - bodyDigest: `hex(SHA256(body))`; `bodyDigest(of: [])` for a request without a body.
    public static func stringToSign(method: String, path: String, canonicalQuery: String, date: Int64, bodyDigest: String) -> String {
        "\(method.uppercased())\n\(path)\n\(canonicalQuery)\n\(date)\n\(bodyDigest)"
    }

    public static func bodyDigest<Bytes: DataProtocol>(of body: Bytes) -> String {
        Hex.encode(SHA256.hash(data: body))
    }

    /// The hex signature of a request.
    public static func signature(secret: String, stringToSign: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: SymmetricKey(data: Array(secret.utf8))))
    }

    /// Whether `signature` (hex) is the request's; compared in constant time by swift-crypto.
    public static func isValid(signature: [UInt8], secret: SymmetricKey, stringToSign: String) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Array(stringToSign.utf8), using: secret)
    }

    /// The two headers a client adds to sign a request.
    public static func headers(
        credentials: KeyCredentials,
        method: String,
        path: String,
        parameters: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        date: Int64
    ) -> (authorization: String, date: String) {
        let text = stringToSign(
            method: method, path: path, canonicalQuery: CanonicalQuery.encode(parameters: parameters),
            date: date, bodyDigest: bodyDigest(of: body)
        )
        let signature = signature(secret: credentials.secret, stringToSign: text)
        return ("\(scheme) Credential=\(credentials.keyID), Signature=\(signature)", String(date))
    }
}
