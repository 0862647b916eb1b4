import HTTPTypes
import SluiceRuntime

/// Why a request was refused, as counted in `sluice_auth_failures_total{reason}`.
///
/// Unknown key, wrong secret and wrong signature answer alike, so the answer never tells whether a key
/// id exists; only a caller that proved it holds a revoked key's secret learns that the key is revoked.
public enum AuthFailure: String, Sendable, CaseIterable, Error {
    case missing
    case malformed
    case unknownKey = "unknown_key"
    case badSecret = "bad_secret"
    case badSignature = "bad_signature"
    case revoked
    case staleDate = "stale_date"
    case replay
    case forbidden
    case rateLimited = "rate_limited"
    case notReady = "not_ready"

    /// The answer for a refusal at the authentication step (401, or 503 before keys are loaded).
    public var error: APIError {
        switch self {
        case .missing:
            unauthorized("no credentials: send Authorization: Bearer <key_id>.<secret>, or sign the request (SLUICE-HMAC-SHA256)")
        case .malformed:
            unauthorized(
                "the credentials are malformed: expected 'Bearer <key_id>.<secret>' or "
                    + "'SLUICE-HMAC-SHA256 Credential=<key_id>, Signature=<64 hex digits>' with X-Sluice-Date: <unix seconds>"
            )
        case .unknownKey, .badSecret, .badSignature:
            unauthorized("the key id, secret or signature is not valid (for a signed request: check the canonical request the README describes)")
        case .revoked:
            unauthorized("this key was revoked; ask for a new one")
        case .staleDate:
            unauthorized(
                "X-Sluice-Date is more than \(AuthSettings.maximumClockSkewSeconds) s away from the server's clock; sign the request again with the current time"
            )
        case .replay:
            unauthorized("this signed request was already accepted; sign each request anew (a new date or body makes a new signature)")
        case .forbidden:
            // Not an authentication step's answer: routes refuse with `Access.require`, which names the
            // domains. Kept in the same shape for completeness.
            APIError(.forbidden, "this key may not do that", details: ["forbidden_domains": .array([])])
        case .rateLimited:
            APIError(.tooManyRequests, "this key is over its request rate", headers: [.retryAfter: "1"])
        case .notReady:
            APIError(
                .serviceUnavailable, "the service has not read its keys from PostgreSQL yet; try again after Retry-After seconds", headers: [.retryAfter: "1"])
        }
    }

    private func unauthorized(_ message: String) -> APIError {
        APIError(
            .unauthorized,
            message,
            details: ["reason": .string(publicReason)],
            headers: [.wwwAuthenticate: #"Bearer realm="sluice", SLUICE-HMAC-SHA256 realm="sluice""#]
        )
    }

    /// The reason a client is shown: the three that would reveal whether a key exists are one.
    var publicReason: String {
        switch self {
        case .unknownKey, .badSecret, .badSignature: "invalid_credentials"
        default: rawValue
        }
    }
}
