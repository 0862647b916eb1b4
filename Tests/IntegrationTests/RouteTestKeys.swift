import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting

@testable import SluiceAuth

/// The keys the in-process route tests sign in with: one test master key, records made from it with the
/// rights each test names, their bearer headers, and the auth settings that require them.
enum RouteTestKeys {
    static let master = try! MasterKey(Array("a master key of at least thirty-two bytes".utf8))
    static let salt: [UInt8] = Array(repeating: 5, count: 32)
    /// Keys required, with limits no test reaches.
    static let required = AuthSettings(mode: .required, masterKey: master, requestsPerSecondPerKey: 1000, replayCacheLimit: 1000)

    /// An active key `id` with `rights` (for example "acme:r").
    static func record(_ id: String, _ rights: String) -> APIKeyRecord {
        APIKeyRecord(
            id: id, name: id.lowercased(), rights: (try? Rights.parse(rights)) ?? Rights(), isActive: true, salt: salt,
            masterFingerprint: master.fingerprint, createdAt: Date(), rotatedAt: nil, revokedAt: nil
        )
    }

    /// Keys for `KeySource`: id → rights.
    static func keys(_ rights: KeyValuePairs<String, String>) -> FixedKeys {
        FixedKeys(rights.map { record($0.key, $0.value) })
    }

    static func bearer(_ id: String) -> HTTPFields {
        [.authorization: "Bearer \(id).\(master.secret(keyID: id, salt: salt))"]
    }

    /// The application's key directory reads its keys as the application starts and answers 503 until
    /// then: `probe` is asked until it answers anything else (at most a second).
    static func waitForKeys(_ probe: () async throws -> TestResponse) async throws {
        for _ in 0..<50 {
            if try await probe().status != .serviceUnavailable { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// The JSON body of every refusal, with the fields each kind adds.
struct RouteErrorBody: Decodable {
    var error: String
    var forbidden_domains: [String]?
    var unknown_tags: [String]?
    var reason: String?

    init(_ response: TestResponse) throws {
        self = try JSONDecoder().decode(RouteErrorBody.self, from: Data(buffer: response.body))
    }
}
