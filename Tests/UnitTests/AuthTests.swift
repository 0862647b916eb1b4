import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import SluiceRuntime
import SluiceSigning
import Synchronization
import Testing

@testable import SluiceAuth

/// Rights, and the authenticator against an in-memory key list: each reason a request is refused.
@Suite struct AuthTests {
    // MARK: Rights

    @Test func rightsParseDomainsAndEveryDomain() throws {
        let rights = try Rights.parse("acme:rw, *:r,beta.eu:w")
        #expect(rights.allows(.read, domain: "acme") && rights.allows(.write, domain: "acme"))
        #expect(rights.allows(.read, domain: "anything"))
        #expect(!rights.allows(.write, domain: "anything"))
        #expect(rights.allows(.write, domain: "beta.eu"))
        #expect(rights.entries == ["acme:r", "acme:w", "beta.eu:w", "*:r"])
        #expect(try Rights(entries: rights.entries) == rights)
    }

    @Test func rightsForOneDomainDoNotReachAnother() throws {
        let rights = try Rights.parse("acme:r")
        #expect(!rights.allows(.read, domain: "acme2"))
        #expect(!rights.allows(.read, domain: "acm"))
        #expect(!rights.allows(.write, domain: "acme"))
    }

    @Test(arguments: ["", "acme", "acme:", "acme:x", ":r", "ac/me:r", "acme:rw,", "a b:r"])
    func badRightsAreRefusedWithAReason(_ text: String) {
        #expect(throws: RightsError.self) { try Rights.parse(text) }
    }

    @Test func accessRequiresEveryDomainOfARequest() throws {
        let access = Access.key(id: "K", rights: try Rights.parse("acme:w"))
        #expect(throws: Never.self) { try access.require(.write, domains: ["acme", "acme"]) }
        #expect {
            try access.require(.write, domains: ["acme", "other", "third"])
        } throws: { error in
            (error as? APIError)?.status == .forbidden && (error as? APIError)?.details["forbidden_domains"] == .array([.string("other"), .string("third")])
        }
        #expect { try Access.anonymous.require(.read, domain: "acme") } throws: { ($0 as? APIError)?.status == .unauthorized }
        #expect(throws: Never.self) { try Access.unrestricted.require(.write, domain: "acme") }
    }

    // MARK: Authenticator

    static let master = try! MasterKey(Array("a master key of at least thirty-two bytes".utf8))
    static let salt: [UInt8] = Array(repeating: 7, count: 32)
    static let secret = master.secret(keyID: "GOOD", salt: salt)

    /// A directory holding one active key GOOD (rights acme:rw) and one revoked key OLD.
    static func directory() -> KeyDirectory {
        let keys = [record("GOOD", active: true), record("OLD", active: false)]
        let directory = KeyDirectory(source: FixedKeys(keys), master: master, refreshInterval: .seconds(1), logger: Logger(label: "auth-test"))
        directory.install(keys)
        return directory
    }

    static func record(_ id: String, active: Bool) -> APIKeyRecord {
        APIKeyRecord(
            id: id, name: id, rights: (try? Rights.parse("acme:rw")) ?? Rights(), isActive: active, salt: salt,
            masterFingerprint: master.fingerprint, createdAt: Date(), rotatedAt: nil, revokedAt: nil
        )
    }

    final class Clock: Sendable {
        let seconds = Atomic<Int64>(1_700_000_000)
    }

    static func authenticator(clock: Clock = Clock(), rate: Int = 1000) -> Authenticator {
        Authenticator(
            directory: directory(),
            settings: AuthSettings(mode: .required, masterKey: master, requestsPerSecondPerKey: rate, replayCacheLimit: 1000),
            maxBodyBytes: 1 << 20,
            wallClockSeconds: { clock.seconds.load(ordering: .relaxed) }
        )
    }

    static func request(path: String = "/save?b=2&a=1", body: String = "{}", headers: HTTPFields) -> Request {
        Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "127.0.0.1", path: path, headerFields: headers),
            body: .init(buffer: ByteBuffer(string: body))
        )
    }

    static func signed(keyID: String = "GOOD", secret: String = secret, date: Int64 = 1_700_000_000, body: String = "{}", sentBody: String? = nil) -> Request {
        let headers = RequestSignature.headers(
            credentials: KeyCredentials(keyID: keyID, secret: secret), method: "POST", path: "/save",
            parameters: [("a", "1"), ("b", "2")], body: Array(body.utf8), date: date
        )
        return request(body: sentBody ?? body, headers: [.authorization: headers.authorization, HTTPField.Name("X-Sluice-Date")!: headers.date])
    }

    /// The reason the authenticator gives for refusing, or "accepted".
    static func outcome(_ authenticator: Authenticator, _ request: Request) async -> String {
        var request = request
        do {
            _ = try await authenticator.authenticate(&request).access
            return "accepted"
        } catch let error as APIError {
            if case .string(let reason) = error.details["reason"] { return reason }
            return "\(error.status.code)"
        } catch {
            return "\(error)"
        }
    }

    @Test func bearerKeysAreCheckedAndUnknownIdsLookLikeWrongSecrets() async {
        let authenticator = Self.authenticator()
        #expect(await Self.outcome(authenticator, Self.request(headers: [.authorization: "Bearer GOOD.\(Self.secret)"])) == "accepted")
        #expect(await Self.outcome(authenticator, Self.request(headers: [.authorization: "Bearer GOOD.wrong"])) == "invalid_credentials")
        #expect(await Self.outcome(authenticator, Self.request(headers: [.authorization: "Bearer NOPE.\(Self.secret)"])) == "invalid_credentials")
        #expect(await Self.outcome(authenticator, Self.request(headers: [:])) == "missing")
        #expect(await Self.outcome(authenticator, Self.request(headers: [.authorization: "Bearer nodot"])) == "malformed")
        #expect(await Self.outcome(authenticator, Self.request(headers: [.authorization: "Basic abc"])) == "malformed")
    }

    /// Keys a test adds while the directory runs, as `sluice-admin keys create` adds rows.
    final class GrowingKeys: KeySource {
        let records = Mutex<[APIKeyRecord]>([])
        let reads = Atomic<Int>(0)
        func all() async throws -> [APIKeyRecord] {
            reads.add(1, ordering: .relaxed)
            return records.withLock { $0 }
        }
    }

    /// A key made after the directory's last read works on its first request (the directory reads again
    /// for an id it lacks), and a stream of unknown ids costs one read per 100 ms, not one per request.
    @Test func aKeyMadeSinceTheLastReadWorksOnItsFirstRequest() async {
        let keys = GrowingKeys()
        let directory = KeyDirectory(source: keys, master: Self.master, refreshInterval: .seconds(60), logger: Logger(label: "auth-test"))
        directory.install([])
        let authenticator = Authenticator(
            directory: directory, settings: AuthSettings(mode: .required, masterKey: Self.master, requestsPerSecondPerKey: 1000, replayCacheLimit: 1000),
            maxBodyBytes: 1 << 20, wallClockSeconds: { 1_700_000_000 }
        )
        keys.records.withLock { $0 = [Self.record("GOOD", active: true)] }
        #expect(await Self.outcome(authenticator, Self.request(headers: [.authorization: "Bearer GOOD.\(Self.secret)"])) == "accepted")
        #expect(await Self.outcome(authenticator, Self.signed()) == "accepted")
        let before = keys.reads.load(ordering: .relaxed)
        let started = ContinuousClock.now
        await withTaskGroup(of: String.self) { group in
            for index in 0..<50 {
                group.addTask { await Self.outcome(authenticator, Self.request(headers: [.authorization: "Bearer NOPE\(index).\(Self.secret)"])) }
            }
            for await outcome in group { #expect(outcome == "invalid_credentials") }
        }
        let reads = keys.reads.load(ordering: .relaxed) - before
        let allowed = Int((ContinuousClock.now - started) / KeyDirectory.onDemandGap) + 2
        #expect(reads >= 1 && reads <= allowed, "\(reads) reads for 50 unknown ids")
    }

    @Test func onlyTheHolderOfARevokedKeyLearnsItIsRevoked() async {
        let authenticator = Self.authenticator()
        let revokedSecret = Self.master.secret(keyID: "OLD", salt: Self.salt)
        #expect(await Self.outcome(authenticator, Self.request(headers: [.authorization: "Bearer OLD.\(revokedSecret)"])) == "revoked")
        #expect(await Self.outcome(authenticator, Self.request(headers: [.authorization: "Bearer OLD.guess"])) == "invalid_credentials")
        #expect(await Self.outcome(authenticator, Self.signed(keyID: "OLD", secret: revokedSecret)) == "revoked")
    }

    @Test func signedRequestsAreAcceptedOnce() async {
        let authenticator = Self.authenticator()
        #expect(await Self.outcome(authenticator, Self.signed()) == "accepted")
        #expect(await Self.outcome(authenticator, Self.signed()) == "replay")
        #expect(await Self.outcome(authenticator, Self.signed(date: 1_700_000_001)) == "accepted")
    }

    @Test func aChangedBodyOrWrongSecretFailsTheSignature() async {
        let authenticator = Self.authenticator()
        #expect(await Self.outcome(authenticator, Self.signed(sentBody: "{ }")) == "invalid_credentials")
        #expect(await Self.outcome(authenticator, Self.signed(secret: "not-the-secret")) == "invalid_credentials")
        #expect(await Self.outcome(authenticator, Self.signed(keyID: "NOPE")) == "invalid_credentials")
    }

    @Test func datesMoreThanFiveMinutesAwayAreStale() async {
        let clock = Clock()
        let authenticator = Self.authenticator(clock: clock)
        #expect(await Self.outcome(authenticator, Self.signed(date: 1_700_000_000 - 300)) == "accepted")
        #expect(await Self.outcome(authenticator, Self.signed(date: 1_700_000_000 + 300)) == "accepted")
        #expect(await Self.outcome(authenticator, Self.signed(date: 1_700_000_000 - 301)) == "stale_date")
        #expect(await Self.outcome(authenticator, Self.signed(date: 1_700_000_000 + 301)) == "stale_date")
        let missingDate = Self.request(headers: [.authorization: Self.signed().headers[.authorization] ?? ""])
        #expect(await Self.outcome(authenticator, missingDate) == "malformed")
    }

    @Test func replayProtectionForgetsOnlyWhatTheDateCheckRefusesAnyway() {
        let guardian = ReplayGuard(limit: 10)
        let signature = Array(repeating: UInt8(1), count: 32)
        #expect(guardian.admit(signature: signature, date: 1000, now: 1000) == .fresh)
        #expect(guardian.admit(signature: signature, date: 1000, now: 1300) == .replay)
        // At 1301 the date is stale, so the server would refuse it before asking; it is then forgotten.
        #expect(guardian.admit(signature: Array(repeating: 2, count: 32), date: 1301, now: 1301) == .fresh)
        #expect(guardian.count == 1)
    }

    @Test func replayGuardRefusesWhenFullRatherThanForgetEarly() {
        let guardian = ReplayGuard(limit: 2)
        #expect(guardian.admit(signature: [1], date: 0, now: 0) == .fresh)
        #expect(guardian.admit(signature: [2], date: 0, now: 0) == .fresh)
        #expect(guardian.admit(signature: [3], date: 0, now: 0) == .full)
    }

    @Test func eachKeyHasItsOwnRate() {
        let limiter = KeyRateLimiter(requestsPerSecond: 2)
        let start = ContinuousClock.now
        #expect(limiter.admit("A", now: start) == nil)
        #expect(limiter.admit("A", now: start) == nil)
        #expect(limiter.admit("A", now: start) == 1)
        #expect(limiter.admit("B", now: start) == nil)
        #expect(limiter.admit("A", now: start + .milliseconds(500)) == nil)
    }

    @Test func overTheRateIs429WithRetryAfter() async {
        let authenticator = Self.authenticator(rate: 1)
        let bearer = Self.request(headers: [.authorization: "Bearer GOOD.\(Self.secret)"])
        #expect(await Self.outcome(authenticator, bearer) == "accepted")
        #expect(await Self.outcome(authenticator, bearer) == "429")
    }

    @Test func aSignedRequestOverTheRateIsNotRememberedSoItsRetryIsNoReplay() async {
        let authenticator = Self.authenticator(rate: 1)
        #expect(await Self.outcome(authenticator, Self.signed(date: 1_700_000_001)) == "accepted")
        #expect(await Self.outcome(authenticator, Self.signed()) == "429")
        #expect(await Self.outcome(authenticator, Self.signed()) == "429")
    }

    @Test func headerParsing() {
        #expect(PresentedCredentials.parse("Bearer A.b") == .bearer(KeyCredentials(keyID: "A", secret: "b")))
        let signature = String(repeating: "ab", count: 32)
        #expect(
            PresentedCredentials.parse("SLUICE-HMAC-SHA256 Credential=K, Signature=\(signature)")
                == .signed(keyID: "K", signature: Array(repeating: 0xAB, count: 32)))
        #expect(
            PresentedCredentials.parse("SLUICE-HMAC-SHA256 Signature=\(signature),Credential=K")
                == .signed(keyID: "K", signature: Array(repeating: 0xAB, count: 32)))
        #expect(PresentedCredentials.parse("SLUICE-HMAC-SHA256 Credential=K, Signature=abc") == nil)
        #expect(PresentedCredentials.parse("SLUICE-HMAC-SHA256 Credential=K") == nil)
        #expect(PresentedCredentials.parse("SLUICE-HMAC-SHA256 Credential=K, Signature=\(signature), Extra=1") == nil)
    }

    /// The schemes agents' clients send carry the same key: InfluxDB 2.x's `Token`, and basic auth with
    /// the key as the password (any user) or the id as user and the secret as password.
    @Test func agentSchemesCarryTheSameKey() {
        let key = KeyCredentials(keyID: "K1", secret: "s3")
        func basic(_ text: String) -> String { "Basic " + Data(text.utf8).base64EncodedString() }
        #expect(PresentedCredentials.parse("Token K1.s3") == .bearer(key))
        #expect(PresentedCredentials.parse(basic("anyone:K1.s3")) == .bearer(key))
        #expect(PresentedCredentials.parse(basic(":K1.s3")) == .bearer(key))
        #expect(PresentedCredentials.parse(basic("K1:s3")) == .bearer(key))
        #expect(PresentedCredentials.parse(basic("K1:")) == nil)
        #expect(PresentedCredentials.parse(basic("no colon")) == nil)
        #expect(PresentedCredentials.parse("Basic !!!") == nil)
        #expect(PresentedCredentials.parse("Token nodot") == nil)
    }

    /// Secrets and signatures are compared only through swift-crypto's constant-time comparisons
    /// (digest equality, `isValidAuthenticationCode`): no `==` on a secret or signature in our code.
    @Test func secretsAreComparedInConstantTime() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var sources = ""
        for folder in ["Shared/Auth", "Shared/Signing"] {
            let directory = root.appendingPathComponent(folder)
            for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".swift") {
                sources += try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            }
        }
        #expect(sources.contains("HMAC<SHA256>.isValidAuthenticationCode"))
        #expect(sources.contains("== entry.secretDigest"))
        let comparisons = try Regex(#"(secret|signature|Signature|Secret)\w*\s*[!=]=[^=]|[!=]=\s*\w*(secret|signature)\b"#)
        let suspicious = sources.split(separator: "\n").filter { line in
            !line.contains("secretDigest") && !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") && line.contains(comparisons)
        }
        #expect(suspicious.isEmpty, "compare secrets with swift-crypto, not ==: \(suspicious)")
    }
}
