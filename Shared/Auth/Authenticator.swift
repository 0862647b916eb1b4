import Crypto
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceModel
import SluiceRuntime
import SluiceSigning

/// Establishes who sent a request: a bearer key or a signed request, checked against the key directory.
public struct Authenticator: Sendable {
    let directory: KeyDirectory
    let replay: ReplayGuard
    let rateLimiter: KeyRateLimiter
    /// The largest body a signed request may have (it is read whole to check the signature).
    let maxBodyBytes: Int
    let wallClockSeconds: @Sendable () -> Int64
    let metrics = AuthMetrics.shared

    public init(
        directory: KeyDirectory, settings: AuthSettings, maxBodyBytes: Int,
        wallClockSeconds: @escaping @Sendable () -> Int64 = { WallClock.nowNanoseconds() / 1_000_000_000 }
    ) {
        self.directory = directory
        self.replay = ReplayGuard(limit: settings.replayCacheLimit)
        self.rateLimiter = KeyRateLimiter(requestsPerSecond: settings.requestsPerSecondPerKey)
        self.maxBodyBytes = maxBodyBytes
        self.wallClockSeconds = wallClockSeconds
    }

    /// Who sent a request, and the signature remembered against replay (nil for a bearer token).
    public struct Authenticated: Sendable {
        public var access: Access
        public var signature: [UInt8]?
    }

    /// The caller's access, or the refusal to answer with. A signed request's body is read here (whole,
    /// up to `maxBodyBytes`) and stays in `request` for the route.
    public func authenticate(_ request: inout Request) async throws -> Authenticated {
        do {
            let (entry, signed) = try await verify(&request)
            // Over the rate before the signature is remembered: the client's retry is then no replay.
            if let wait = rateLimiter.admit(entry.id) {
                throw AuthRefusal(
                    .rateLimited,
                    APIError(
                        .tooManyRequests,
                        "key \(entry.id) is over its rate of SLUICE_AUTH_RATE_PER_KEY requests a second; nothing was done, send the request again after Retry-After seconds",
                        headers: [.retryAfter: String(wait)]
                    )
                )
            }
            if let signed { try admitOnce(signed) }
            metrics.accepted.increment()
            return Authenticated(access: .key(id: entry.id, rights: entry.rights), signature: signed?.signature)
        } catch let refusal as AuthRefusal {
            metrics.failure(refusal.reason)
            throw refusal.error
        }
    }

    /// A request that was refused without being carried out may be sent again with the same signature.
    public func forget(signature: [UInt8]) {
        replay.forget(signature: signature)
    }

    /// Refuses a signature accepted before within its date's window; otherwise remembers it.
    private func admitOnce(_ signed: (signature: [UInt8], date: Int64, now: Int64)) throws {
        switch replay.admit(signature: signed.signature, date: signed.date, now: signed.now) {
        case .fresh: return
        case .replay: throw AuthRefusal(.replay)
        case .full:
            throw AuthRefusal(
                .rateLimited,
                APIError(
                    .serviceUnavailable,
                    "more signed requests arrived in the last \(2 * AuthSettings.maximumClockSkewSeconds) s than SLUICE_AUTH_REPLAY_CACHE_LIMIT remembers; try again after Retry-After seconds",
                    headers: [.retryAfter: "5"]
                )
            )
        }
    }

    /// The key whose secret the request proves it holds, and for a signed request what replay
    /// protection needs.
    private func verify(_ request: inout Request) async throws -> (KeyDirectory.Entry, signed: (signature: [UInt8], date: Int64, now: Int64)?) {
        guard let header = request.headers[.authorization] else { throw AuthRefusal(.missing) }
        guard let presented = PresentedCredentials.parse(header) else { throw AuthRefusal(.malformed) }
        switch presented {
        case .bearer(let credentials):
            let entry = try await known(credentials.keyID)
            // Digest against digest: constant time, and the lengths never differ.
            guard let entry, SHA256.hash(data: Array(credentials.secret.utf8)) == entry.secretDigest else {
                if entry == nil { _ = SHA256.hash(data: Array(credentials.secret.utf8)) == Self.decoy.secretDigest }
                throw AuthRefusal(entry == nil ? .unknownKey : .badSecret)
            }
            return (try active(entry), nil)
        case .signed(let keyID, let signature):
            guard let dateText = request.headers[Self.dateField], let date = Int64(dateText) else {
                throw AuthRefusal(.malformed)
            }
            let now = wallClockSeconds()
            guard abs(now - date) <= AuthSettings.maximumClockSkewSeconds else { throw AuthRefusal(.staleDate) }
            guard let canonicalQuery = CanonicalQuery.encode(rawQuery: request.uri.query ?? "") else { throw AuthRefusal(.malformed) }
            let entry = try await known(keyID)
            let body = try await request.collectBody(upTo: maxBodyBytes)
            let text = RequestSignature.stringToSign(
                method: request.method.rawValue,
                path: request.uri.path,
                canonicalQuery: canonicalQuery,
                date: date,
                bodyDigest: RequestSignature.bodyDigest(of: body.readableBytesView)
            )
            guard RequestSignature.isValid(signature: signature, secret: (entry ?? Self.decoy).signingKey, stringToSign: text), let entry else {
                throw AuthRefusal(entry == nil ? .unknownKey : .badSignature)
            }
            return (try active(entry), (signature, date, now))
        }
    }

    /// The entry for a key id, nil when there is none; throws while the keys were never read. An id the
    /// list lacks has the list read again first: the key may have been made a moment ago.
    private func known(_ keyID: String) async throws -> KeyDirectory.Entry? {
        var lookup = directory.lookup(keyID)
        if case .unknown = lookup { lookup = await directory.lookupAfterReading(keyID) }
        switch lookup {
        case .notLoaded: throw AuthRefusal(.notReady)
        case .unknown: return nil
        case .found(let entry): return entry
        }
    }

    /// Only a caller who proved it holds the key's secret learns that the key is revoked.
    private func active(_ entry: KeyDirectory.Entry) throws -> KeyDirectory.Entry {
        guard entry.isActive else { throw AuthRefusal(.revoked) }
        return entry
    }

    /// Checked against when the key id is unknown, so the answer and the check cost the same as for a
    /// wrong secret. (An unknown id also waits for the directory's re-read, up to ~100 ms: that tells an
    /// id is unknown, which is no secret; the secret is.)
    static let decoy = KeyDirectory.entry(id: "", rights: Rights(), isActive: false, secret: MasterKey.generate())

    static let dateField = HTTPField.Name(RequestSignature.dateHeader)!
}

/// A refusal on its way out: the reason counted, the answer given.
struct AuthRefusal: Error {
    var reason: AuthFailure
    var error: APIError

    init(_ reason: AuthFailure, _ error: APIError? = nil) {
        self.reason = reason
        self.error = error ?? reason.error
    }
}

/// Puts the caller's `Access` in the context of every route behind it; refuses what cannot be
/// authenticated. With `SLUICE_AUTH=off` every request is let through unrestricted.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = SluiceRequestContext
    let authenticator: Authenticator?

    /// - Parameter authenticator: nil when auth is off.
    public init(authenticator: Authenticator?) {
        self.authenticator = authenticator
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        guard let authenticator else {
            context.access = .unrestricted
            return try await next(request, context)
        }
        var request = request
        let authenticated = try await authenticator.authenticate(&request)
        context.access = authenticated.access
        guard let signature = authenticated.signature else { return try await next(request, context) }
        // A signed request refused for now (busy, over a rate) was not carried out: its retry is no replay.
        do {
            let response = try await next(request, context)
            if Self.isRetryable(response.status) { authenticator.forget(signature: signature) }
            return response
        } catch let error as HTTPResponseError where Self.isRetryable(error.status) {
            authenticator.forget(signature: signature)
            throw error
        }
    }

    static func isRetryable(_ status: HTTPResponse.Status) -> Bool {
        status == .serviceUnavailable || status == .tooManyRequests
    }
}
