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
            let kairosReads =
                ["/datapoints/query", "/datapoints/query/tags", "/metricnames", "/tagnames", "/tagvalues"].flatMap {
                    ["/api/v1" + $0, "/api/v1/{domain}" + $0]
                }
                + ["/api/v1/version", "/api/v1/health/check", "/api/v1/health/status"]
            let expected: [(url: String, paths: Set<String>)] = [
                (
                    stack.ingestURL,
                    [
                        "/save", "/api/v1/datapoints", "/api/v1/{domain}/datapoints", "/write", "/api/v2/write", "/ping", "/api/v1/write", "/flux/metric_data",
                        "/flux/metric_data_post", "/flux/populate_metric",
                    ]
                ),
                (
                    stack.queryURL,
                    Set(
                        ["/api", "/series"] + kairosReads + [
                            "/v0/data_hist/query", "/v0/data_hist/status/{query_id}", "/v0/data_hist/next", "/v0/data_hist/query/{query_id}",
                        ])
                ),
                (stack.bridgeURL, ["/v1/window", "/", "/series", "/assets/sluice-chart.js", "/assets/dygraph.min.js", "/assets/dygraph.min.css"]),
                (stack.writerURL, []),
            ]
            for (url, own) in expected {
                let reply = try await HTTP.get(url + "/openapi.json")
                #expect(reply.status == 200 && reply.headers["content-type"] == "application/json")
                let document = try #require(try reply.json() as? [String: Any])
                #expect(document["openapi"] as? String == "3.0.3")
                let paths = try #require(document["paths"] as? [String: [String: Any]])
                #expect(Set(paths.keys) == own.union(["/health", "/metrics", "/openapi.json"]), "\(url): \(paths.keys.sorted())")

                // Each documented operation exists, and a request missing everything gets a documented answer:
                // refused with an error body (KairosDB's and InfluxDB's paths in their shapes), or, for a
                // listing or a liveness check that needs nothing, answered.
                for (path, item) in paths where own.contains(path) {
                    let concrete = path.replacingOccurrences(of: "{domain}", with: "default").replacingOccurrences(of: "{query_id}", with: UUID().uuidString)
                    for (method, operation) in item {
                        let responses = try #require((operation as? [String: Any])?["responses"] as? [String: Any])
                        let answer =
                            switch method {
                            case "get": try await HTTP.get(url + concrete)
                            case "delete": try await HTTP.send("DELETE", url + concrete, credentials: .none)
                            default: try await HTTP.post(url + concrete, body: Data("{}".utf8))
                            }
                        #expect(responses.keys.contains(String(answer.status)), "\(method) \(path) answered \(answer.status), not documented")
                        if answer.status == 204 {
                            #expect(answer.body.isEmpty, "\(method) \(path): \(answer.text)")
                            continue
                        }
                        // A page or a file of one (the bridge's chart page): the documented content type.
                        let documented = ((responses[String(answer.status)] as? [String: Any])?["content"] as? [String: Any])?.keys.first
                        if let documented, documented != "application/json" {
                            #expect(answer.headers["content-type"]?.hasPrefix(documented) == true, "\(method) \(path): \(answer.headers)")
                            #expect(!answer.body.isEmpty, "\(method) \(path)")
                            continue
                        }
                        let json = try answer.json()
                        let body = json as? [String: Any]
                        if answer.status >= 400 {
                            #expect(body?["error"] is String || body?["errors"] is [String] || body?["message"] is String, "\(method) \(path): \(answer.text)")
                        } else {
                            // A listing (KairosDB's names, or a page of series: empty on a fresh database), or one
                            // of KairosDB's probes (its version, its list of checks).
                            let listing = body?["results"] is [String] || body?["series"] is [Any]
                            let probe = body?["version"] is String || json is [String]
                            #expect(listing || probe, "\(method) \(path): \(answer.text)")
                        }
                    }
                }
            }
            await stack.stop()
        }
    }
}
