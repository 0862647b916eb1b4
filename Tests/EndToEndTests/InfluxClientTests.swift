import Foundation
import SluiceSigning
import SluiceTestSupport
import Testing

/// InfluxDB line protocol through ingest, proven with the official InfluxDB Python clients
/// (`influxdb-client` for `/api/v2/write` with gzip and a token, `influxdb` for `/write` with basic auth),
/// every value read back exactly through `/api`; then what those clients cannot show: `u`/`p`
/// credentials, InfluxDB's error shapes, refusals that store nothing, and the per-format metrics.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct InfluxClientTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Written: Decodable {
        var series: String
        var labels: [String: String]
        var time_ns: Int64
        var value: Double

        /// The series' text form, written out here: one label, so no ordering to get wrong.
        var tag: String {
            labels.map { "\(series){\($0.key)=\"\($0.value)\"}" }.first ?? series
        }
    }

    /// Each second's last value of a series in a window, through `/api` (the points are a second apart).
    func readBack(_ stack: SluiceStack, tag: String, domain: String, from start: Int64, key: KeyCredentials) async throws -> [(Int64, Double)] {
        let escaped = tag.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? tag
        let url = stack.queryURL + "/api?domain=\(domain)&tag=\(escaped)&start=\(start)&end=\(start + 600_000_000_000)&fn=last&step=1000000000&fill=none"
        let reply = try await HTTP.send("GET", url, credentials: .bearer(key))
        guard reply.status == 200, let object = try reply.json() as? [String: Any], let samples = object["samples"] as? [[String: Any]] else {
            return []
        }
        return samples.compactMap { sample in
            guard let time = (sample["time"] as? NSNumber)?.int64Value, let value = (sample["values"] as? [NSNumber])?.first?.doubleValue else { return nil }
            return (time, value)
        }
    }

    @Test func theOfficialClientsWritePointsThatReadBackExactly() async throws {
        let python = try TestSettings.agentsPython()
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, requireKeys: true)
            let key = try await stack.createKey(name: "influx agent", rights: "agents:rw")
            try await stack.waitUntilIngestKnows(key)
            let base = Int64(Date().timeIntervalSince1970) - 120
            let script = Self.root.appendingPathComponent("scripts/agents/influx-clients.py").path
            let result = try await Program.run(python, [script, stack.ingestURL, key.token, String(base), "20"], within: .seconds(120))
            let why: String = result.errors + "\n" + stack.logs
            #expect(result.succeeded, "\(why)")
            let written = try result.output.split(separator: "\n").map { try JSONDecoder().decode(Written.self, from: Data($0.utf8)) }
            let expectedValues = 2 * 2 * 20 + 3 * 20
            #expect(written.count == expectedValues)
            let bySeries = Dictionary(grouping: written, by: \.tag)
            #expect(bySeries.count == 7)
            for (tag, points) in bySeries.sorted(by: { $0.key < $1.key }) {
                let want = points.map { ($0.time_ns, $0.value) }.sorted { $0.0 < $1.0 }
                var got: [(Int64, Double)] = []
                let deadline = ContinuousClock.now + .seconds(30)
                repeat {
                    got = try await readBack(stack, tag: tag, domain: "agents", from: base * 1_000_000_000, key: try #require(stack.adminKey))
                    if got.count >= want.count { break }
                    try await Task.sleep(for: .milliseconds(200))
                } while ContinuousClock.now < deadline
                #expect(got.map(\.0) == want.map(\.0), "\(tag): times")
                #expect(got.map(\.1) == want.map(\.1), "\(tag): values")
            }
            let accepted = try await HTTP.metric(stack.ingestURL, #"sluice_ingest_messages_accepted_total{format="influx"}"#)
            #expect(accepted == Double(written.count))
        }
    }

    @Test func queryCredentialsErrorShapesAndRefusalsThatStoreNothing() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, requireKeys: true)
            let key = try await stack.createKey(name: "influx agent", rights: "agents:rw")
            try await stack.waitUntilIngestKnows(key)
            let admin = try #require(stack.adminKey)
            let now = Int64(Date().timeIntervalSince1970)
            func write(_ path: String, _ body: String, credentials: HTTP.Credentials = .none, headers: [String: String] = [:]) async throws -> HTTP.Reply {
                try await HTTP.send(
                    "POST", stack.ingestURL + path, body: Data(body.utf8), contentType: "text/plain", credentials: credentials, extraHeaders: headers)
            }

            // 1.x clients' `u` and `p`: the whole key as the password, or id and secret apart.
            let whole = try await write("/write?db=agents&precision=s&u=any&p=\(key.token)", "up,host=q v=1 \(now)")
            #expect(whole.status == 204, "\(whole.text)")
            let apart = try await write("/write?db=agents&precision=s&u=\(key.keyID)&p=\(key.secret)", "up,host=q v=2 \(now + 1)")
            #expect(apart.status == 204, "\(apart.text)")
            let wrong = try await write("/write?db=agents&u=\(key.keyID)&p=nope", "up v=1")
            #expect(wrong.status == 401)
            let otherDomain = try await write("/api/v2/write?bucket=elsewhere&org=x", "up v=1", credentials: .header("Token \(key.token)"))
            #expect(otherDomain.status == 403, "\(otherDomain.text)")

            // Refusals in InfluxDB's shapes, and nothing of a refused request stored.
            let stringField = try await write("/write?db=agents&precision=s", "up,host=r v=3 \(now)\nup,host=r s=\"text\" \(now)", credentials: .bearer(key))
            #expect(stringField.status == 400)
            let v1 = try #require(try stringField.json() as? [String: String])
            #expect(v1["error"]?.contains("line 2: field \"s\" is a string") == true, "\(v1)")
            #expect(stringField.headers.first { $0.key.lowercased() == "x-influxdb-error" }?.value.contains("line 2") == true)
            let syntax = try await write("/api/v2/write?bucket=agents&precision=s", "up,host=r v=\n", credentials: .header("Token \(key.token)"))
            #expect(syntax.status == 400)
            let v2 = try #require(try syntax.json() as? [String: String])
            #expect(v2["code"] == "invalid" && v2["message"]?.contains("line 1") == true, "\(v2)")
            let noDatabase = try await write("/write", "up v=1", credentials: .bearer(key))
            #expect(noDatabase.status == 400 && noDatabase.text.contains("db is required"))
            let badPrecision = try await write("/api/v2/write?bucket=agents&precision=d", "up v=1", credentials: .bearer(key))
            #expect(badPrecision.status == 400 && badPrecision.text.contains("precision"))
            let notGzip = try await write("/write?db=agents", "up v=1", credentials: .bearer(key), headers: ["Content-Encoding": "gzip"])
            #expect(notGzip.status == 400 && notGzip.text.contains("gzip"))
            let ping = try await HTTP.get(stack.ingestURL + "/ping")
            #expect(ping.status == 204)

            // The two accepted writes are there; the refused request's first line is not.
            var stored: [(Int64, Double)] = []
            let deadline = ContinuousClock.now + .seconds(30)
            repeat {
                stored = try await readBack(stack, tag: #"up.v{host="q"}"#, domain: "agents", from: (now - 300) * 1_000_000_000, key: admin)
                if stored.count >= 2 { break }
                try await Task.sleep(for: .milliseconds(200))
            } while ContinuousClock.now < deadline
            #expect(stored.map(\.1) == [1, 2])
            let refused = try await HTTP.send(
                "GET",
                stack.queryURL + "/api?domain=agents&tag=" + (#"up.v{host="r"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
                    + "&start=-600000000000", credentials: .bearer(admin))
            #expect(refused.status == 404, "\(refused.text)")
            let invalid = try await HTTP.metric(stack.ingestURL, #"sluice_ingest_requests_rejected_total{format="influx",reason="invalid"}"#)
            #expect(invalid == 1)
            // The syntax error and the body that was not gzip.
            let malformed = try await HTTP.metric(stack.ingestURL, #"sluice_ingest_requests_rejected_total{format="influx",reason="malformed"}"#)
            #expect(malformed == 2)
        }
    }
}
