import Bridge
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Prometheus
import Query
import SluiceRuntime
import SluiceTestSupport
import Testing

@testable import SluiceAuth

/// The bridge's routes, auth answers and JSON errors, driven in-process with `app.test(.router)`: the
/// application the process runs, its backing jobs reading from the query application served in the same
/// process (`.live`, on a free port) over a real PostgreSQL, and its change-feed listener on a private
/// local broker. What needs processes (signals, restarts, the pipeline) stays in EndToEndTests.
@Suite(.timeLimit(.minutes(1)))
struct BridgeRouteTests {
    static let second: Int64 = 1_000_000_000

    /// Key READER may read `acme` only.
    static let keys = RouteTestKeys.keys(["READER": "acme:r"])
    static let bearer: HTTPFields = {
        var fields = RouteTestKeys.bearer("READER")
        fields[.contentType] = "application/json"
        return fields
    }()

    /// Runs `body` against the bridge application, whose jobs read from a live query application on a fresh
    /// database holding `rows` (tag → (unix seconds, value)) in domain `acme`, both with keys required.
    func withBridge(rows: [String: [(Int64, Double)]], _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let settings = try TestSettings.fromEnvironment()
        let broker = try await LocalBroker(settings: settings, topics: ["sluice.changes": 1])
        defer { Task { await broker.stop() } }
        try await TestDatabase.with { database, postgres in
            let auth = RouteTestKeys.required
            var queryConfiguration = try QueryConfiguration.fromEnvironment(EnvironmentReader(database.serviceEnvironment))
            queryConfiguration.auth = auth
            queryConfiguration.http = ServiceAddress(host: "127.0.0.1", port: 0)
            let query = buildQueryApplication(
                configuration: queryConfiguration, registry: PrometheusCollectorRegistry(), keys: Self.keys, logger: Logger(label: "bridge-route-test-query")
            )
            try await query.test(.live) { queryClient in
                // The query application migrated the schema before it listened: the rows can go in now.
                for (tag, points) in rows {
                    try await postgres.query("insert into series (domain, tag) values ('acme', \(tag))")
                    for (time, value) in points {
                        try await postgres.query(
                            """
                            insert into measurements (series_id, ts, vals)
                            select id, \(time * Self.second), array[\(value), \(-value)]::float8[] from series where tag = \(tag)
                            """
                        )
                    }
                }
                let port = try #require(queryClient.port)
                var environment = database.serviceEnvironment
                environment["SLUICE_QUERY_URL"] = "http://127.0.0.1:\(port)"
                environment["SLUICE_KAFKA_BOOTSTRAP"] = broker.bootstrap
                var configuration = try BridgeConfiguration.fromEnvironment(EnvironmentReader(environment))
                configuration.auth = auth
                let bridge = try buildBridgeApplication(
                    configuration: configuration, registry: PrometheusCollectorRegistry(), keys: Self.keys, logger: Logger(label: "bridge-route-test")
                )
                try await bridge.test(.router) { client in
                    // The directory reads its keys as the application starts; a request before that is told to wait.
                    try await RouteTestKeys.waitForKeys {
                        try await client.execute(uri: "/v1/window", method: .post, headers: Self.bearer, body: ByteBuffer(string: "{}"))
                    }
                    try await body(client)
                }
            }
        }
    }

    static func post(_ client: any TestClientProtocol, _ json: String, headers: HTTPFields = bearer) async throws -> TestResponse {
        try await client.execute(uri: "/v1/window", method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    @Test func windowsAnswerAsOfTheStoredRowsAndRefusalsAreJSON() async throws {
        let now = Int64(Date().timeIntervalSince1970)
        // One row every 10 s over the last ten minutes, valued by its time.
        let points = stride(from: now - 600, through: now - 1, by: 10).map { ($0, Double($0 % 100_000)) }
        try await withBridge(rows: ["cpu": points]) { client in
            let reply = try await Self.post(client, #"{"tag": "cpu", "domain": "acme", "start_time_ms": -300000, "resolution_hint_ms": 10000}"#)
            #expect(reply.status == .ok, "\(String(buffer: reply.body))")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: reply.body)) as? [String: Any])
            #expect(object["resolution_ms"] as? Int == 10_000)
            let data = try #require((object["data"] as? [String: Any])?["cpu"] as? [[Any]])
            #expect(data.count >= 25)
            for entry in data {
                // Each grid time answers the newest row at or before it.
                let time = try #require((entry[0] as? NSNumber)?.int64Value)
                let values = try #require((entry[1] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue })
                let asOf = try #require(points.last { $0.0 * 1000 <= time })
                #expect(values == [asOf.1, -asOf.1], "at \(time)")
            }

            // An aggregate: each grid time t answers the rows in [t − step, t), as /api's buckets hold them.
            let averaged = try await Self.post(
                client, #"{"tag": "cpu", "domain": "acme", "start_time_ms": -300000, "resolution_hint_ms": 30000, "fn": "avg"}"#
            )
            #expect(averaged.status == .ok, "\(String(buffer: averaged.body))")
            let averages = try #require(try JSONSerialization.jsonObject(with: Data(buffer: averaged.body)) as? [String: Any])
            #expect(averages["fn"] as? String == "avg")
            let step = try #require((averages["resolution_ms"] as? NSNumber)?.int64Value)
            let buckets = try #require((averages["data"] as? [String: Any])?["cpu"] as? [[Any]])
            #expect(buckets.count >= 300_000 / Int(step) - 2, "\(buckets.count) buckets of \(step) ms")
            for entry in buckets {
                let time = try #require((entry[0] as? NSNumber)?.int64Value)
                let values = try #require((entry[1] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue })
                let inside = points.filter { $0.0 * 1000 >= time - step && $0.0 * 1000 < time }.map(\.1)
                let mean = inside.reduce(0, +) / Double(inside.count)
                #expect(!inside.isEmpty && values == [mean, -mean], "at \(time): \(values) from \(inside)")
            }
            let counted = try await Self.post(
                client, #"{"tag": "cpu", "domain": "acme", "start_time_ms": -300000, "resolution_hint_ms": 30000, "fn": "count"}"#)
            let counts = try #require(try JSONSerialization.jsonObject(with: Data(buffer: counted.body)) as? [String: Any])
            let countRows = try #require((counts["data"] as? [String: Any])?["cpu"] as? [[Any]])
            #expect(countRows.count >= 300_000 / Int(step) - 2, "\(countRows.count) counts of \(step) ms")
            for entry in countRows {
                // Counted from the rows, not step / 10 s: a grid time past the test's last row (the clock has moved
                // on since the rows were made) closes a bucket that holds fewer.
                let time = try #require((entry[0] as? NSNumber)?.int64Value)
                let values = try #require((entry[1] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue })
                let inside = Double(points.count(where: { $0.0 * 1000 >= time - step && $0.0 * 1000 < time }))
                #expect(inside > 0 && values == [inside, inside], "at \(time): \(values), \(inside) rows stored")
            }
            let unknownFunction = try await Self.post(client, #"{"tag": "cpu", "domain": "acme", "start_time_ms": -60000, "fn": "median"}"#)
            #expect(unknownFunction.status == .badRequest)
            #expect(try RouteErrorBody(unknownFunction).error.hasPrefix("fn must be one of asof, last"))

            let anonymous = try await client.execute(uri: "/v1/window", method: .post, body: ByteBuffer(string: #"{"tag": "cpu", "start_time_ms": -60000}"#))
            #expect(anonymous.status == .unauthorized)
            #expect(try RouteErrorBody(anonymous).error.isEmpty == false)
            let elsewhere = try await Self.post(client, #"{"tag": "cpu", "domain": "other", "start_time_ms": -60000}"#)
            #expect(elsewhere.status == .forbidden)
            #expect(try RouteErrorBody(elsewhere).forbidden_domains == ["other"])
            let unknown = try await Self.post(client, #"{"tags": ["cpu", "nothing-here"], "domain": "acme", "start_time_ms": -60000}"#)
            #expect(unknown.status == .notFound)
            #expect(try RouteErrorBody(unknown).unknown_tags == ["nothing-here"])
            let malformed = try await Self.post(client, #"{"tag": "cpu", "domain": "acme"}"#)
            #expect(malformed.status == .badRequest)
            #expect(try RouteErrorBody(malformed).error.contains("start_time_ms is required"))
            let notJSON = try await Self.post(client, "tag=cpu")
            #expect(notJSON.status == .badRequest)
            #expect(try RouteErrorBody(notJSON).error.contains("JSON object"))
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
        }
    }

    /// The chart page, its script and Debian's dygraphs are served with their types and cache headers,
    /// open; nothing else is reachable under `/assets/`; the page's series list is the query service's.
    @Test func thePageItsFilesAndItsSeriesListAreServedAndNothingElse() async throws {
        try await withBridge(rows: ["cpu": [(1_700_000_000, 1)], "mem": [(1_700_000_000, 2)]]) { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8" && page.headers[.cacheControl] == "no-cache")
            #expect(String(buffer: page.body).contains(#"<script src="/assets/sluice-chart.js">"#))
            let script = try await client.execute(uri: "/assets/sluice-chart.js", method: .get)
            #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(String(buffer: script.body).contains("window.sluiceChart"))
            // Installed by the run and test commands (Debian's libjs-dygraphs).
            let library = try await client.execute(uri: "/assets/dygraph.min.js", method: .get)
            #expect(library.status == .ok, "install libjs-dygraphs: \(String(buffer: library.body))")
            #expect(library.headers[.cacheControl] == "public, max-age=86400" && library.body.readableBytes > 10_000)
            let style = try await client.execute(uri: "/assets/dygraph.min.css", method: .get)
            #expect(style.status == .ok && style.headers[.contentType] == "text/css; charset=utf-8")
            for outside in ["/assets/../Package.swift", "/assets/%2e%2e/%2e%2e/etc/passwd", "/assets/dygraph.js", "/assets/", "/etc/passwd"] {
                let refused = try await client.execute(uri: outside, method: .get)
                #expect(refused.status == .notFound, "\(outside) answered \(refused.status)")
                #expect(!String(buffer: refused.body).contains("root:"), "\(outside)")
            }

            let series = try await client.execute(uri: "/series?domain=acme&prefix=c", method: .get, headers: Self.bearer)
            #expect(series.status == .ok, "\(String(buffer: series.body))")
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(buffer: series.body)) as? [String: Any])
            #expect((listed["series"] as? [[String: Any]])?.compactMap { $0["series"] as? String } == ["cpu"])
            // A matcher under `match[]` written as browsers send it, brackets and all, reaches the search intact.
            for name in ["match[]", "match%5B%5D"] {
                let matched = try await client.execute(uri: "/series?domain=acme&\(name)=__name__%3D%22mem%22", method: .get, headers: Self.bearer)
                let found = try #require(
                    try JSONSerialization.jsonObject(with: Data(buffer: matched.body)) as? [String: Any], "\(String(buffer: matched.body))")
                #expect((found["series"] as? [[String: Any]])?.compactMap { $0["series"] as? String } == ["mem"], "\(name): \(found)")
            }
            let elsewhere = try await client.execute(uri: "/series?domain=other", method: .get, headers: Self.bearer)
            #expect(elsewhere.status == .forbidden)
            #expect(try RouteErrorBody(elsewhere).forbidden_domains == ["other"])
            let anonymous = try await client.execute(uri: "/series?domain=acme", method: .get)
            #expect(anonymous.status == .unauthorized)
            let badMatcher = try await client.execute(uri: "/series?domain=acme&limit=5000", method: .get, headers: Self.bearer)
            #expect(badMatcher.status == .badRequest, "the query service's refusal passes through")
        }
    }
}
