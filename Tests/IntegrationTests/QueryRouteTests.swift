import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Query
@testable import SluiceAuth
import SluiceRuntime
import SluiceTestSupport
import Testing

/// The query service's routes, auth answers and JSON errors, driven in-process with `app.test(.router)`
/// against a real PostgreSQL: the application the process runs, with no process and no port. What needs
/// processes (signals, restarts, the pipeline) stays in EndToEndTests.
@Suite(.timeLimit(.minutes(1)))
struct QueryRouteTests {
    static let master = try! MasterKey(Array("a master key of at least thirty-two bytes".utf8))
    static let salt: [UInt8] = Array(repeating: 3, count: 32)

    /// Key READER may read `acme` only.
    static let keys = FixedKeys([
        APIKeyRecord(
            id: "READER", name: "reader", rights: (try? Rights.parse("acme:r")) ?? Rights(), isActive: true, salt: salt,
            masterFingerprint: master.fingerprint, createdAt: Date(), rotatedAt: nil, revokedAt: nil
        )
    ])
    static let bearer: HTTPFields = [.authorization: "Bearer READER.\(master.secret(keyID: "READER", salt: salt))"]

    func withQuery(auth: Bool, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await TestDatabase.with { database, _ in
            var configuration = try QueryConfiguration.fromEnvironment(EnvironmentReader(database.serviceEnvironment))
            if auth {
                configuration.auth = AuthSettings(mode: .required, masterKey: Self.master, requestsPerSecondPerKey: 1000, replayCacheLimit: 1000)
            }
            let app = buildQueryApplication(
                configuration: configuration, registry: PrometheusCollectorRegistry(), keys: Self.keys, logger: Logger(label: "query-route-test")
            )
            try await app.test(.router) { client in try await body(client) }
        }
    }

    /// The JSON error body every refusal carries.
    struct ErrorBody: Decodable {
        var error: String
        var forbidden_domains: [String]?
        var reason: String?
    }

    static func error(_ response: TestResponse) throws -> ErrorBody {
        try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
    }

    @Test func badParametersAndUnknownSeriesAnswerJSONErrors() async throws {
        try await withQuery(auth: false) { client in
            let missing = try await client.execute(uri: "/api?start=-3600000000000", method: .get)
            #expect(missing.status == .badRequest)
            #expect(try Self.error(missing).error.contains("tag"))
            let unknown = try await client.execute(uri: "/api?tag=nothing-here&start=-3600000000000", method: .get)
            #expect(unknown.status == .notFound)
            #expect(try Self.error(unknown).error.contains("nothing-here"))
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
        }
    }

    @Test func keysAreRequiredAndEveryRefusalNamesItsDomains() async throws {
        try await withQuery(auth: true) { client in
            let anonymous = try await client.execute(uri: "/api?tag=t&start=-3600000000000", method: .get)
            #expect(anonymous.status == .unauthorized)
            #expect(try Self.error(anonymous).reason == "missing")
            // The directory reads its keys as the application starts; a request before that is told to wait.
            var other = try await client.execute(uri: "/api?tag=t&domain=other&start=-3600000000000", method: .get, headers: Self.bearer)
            for _ in 0..<50 where other.status == .serviceUnavailable {
                try await Task.sleep(for: .milliseconds(20))
                other = try await client.execute(uri: "/api?tag=t&domain=other&start=-3600000000000", method: .get, headers: Self.bearer)
            }
            #expect(other.status == .forbidden)
            #expect(try Self.error(other).forbidden_domains == ["other"])
            // Its own domain: past auth, to the lookup (no such series).
            let own = try await client.execute(uri: "/api?tag=t&domain=acme&start=-3600000000000", method: .get, headers: Self.bearer)
            #expect(own.status == .notFound)
            // KairosDB's query route sits behind the same seam.
            let kairos = try await client.execute(
                uri: "/api/v1/other/datapoints/query", method: .post, headers: Self.bearer,
                body: ByteBuffer(string: #"{"start_relative": {"value": 1, "unit": "hours"}, "metrics": [{"name": "t"}]}"#)
            )
            #expect(kairos.status == .forbidden)
        }
    }
}
