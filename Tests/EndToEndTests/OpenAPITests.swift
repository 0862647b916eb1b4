import Foundation
import SluiceTestSupport
import Testing

/// Every service serves an OpenAPI 3 document, and each operation it documents answers as documented:
/// the route exists, and what a bad request gets back is a documented status with the Error shape.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct OpenAPITests {
    @Test func eachServiceDocumentsItsOperationsAndAnswersAsDocumented() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, withBridge: true)
            let expected: [(url: String, paths: Set<String>)] = [
                (stack.ingestURL, ["/save"]),
                (stack.queryURL, ["/api"]),
                (stack.bridgeURL, ["/v1/window", "/"]),
                (stack.writerURL, []),
            ]
            for (url, own) in expected {
                let reply = try await HTTP.get(url + "/openapi.json")
                #expect(reply.status == 200 && reply.headers["content-type"] == "application/json")
                let document = try #require(try reply.json() as? [String: Any])
                #expect(document["openapi"] as? String == "3.0.3")
                let paths = try #require(document["paths"] as? [String: [String: Any]])
                #expect(Set(paths.keys) == own.union(["/health", "/metrics", "/openapi.json"]), "\(url): \(paths.keys.sorted())")

                // Each documented operation exists, and a request missing everything gets a documented answer.
                for (path, item) in paths where own.contains(path) {
                    for (method, operation) in item {
                        let responses = try #require((operation as? [String: Any])?["responses"] as? [String: Any])
                        let answer = method == "get"
                            ? try await HTTP.get(url + path)
                            : try await HTTP.post(url + path, body: Data("{}".utf8))
                        #expect(responses.keys.contains(String(answer.status)), "\(method) \(path) answered \(answer.status), not documented")
                        #expect((try answer.json() as? [String: Any])?["error"] is String, "\(method) \(path): \(answer.text)")
                    }
                }
            }
            await stack.stop()
        }
    }
}
