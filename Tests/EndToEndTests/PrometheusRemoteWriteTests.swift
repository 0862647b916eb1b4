import Foundation
import SluiceSigning
import SluiceTestSupport
import Testing

/// Prometheus remote write, proven with Prometheus itself (Debian's 2.42): it scrapes the Sluice
/// services' own `/metrics` and remote-writes what it scraped to ingest with a bearer key; the test then
/// finds ingest's `sluice_ingest_messages_accepted_total` for the right instance in Sluice, every
/// sample equal to the one Prometheus holds for the same millisecond.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PrometheusRemoteWriteTests {
    struct PrometheusSample: Hashable {
        var milliseconds: Int64
        var value: Double
    }

    /// Prometheus' own raw samples of one series over the last five minutes (a range vector).
    func scraped(prometheusURL: String, series: String) async throws -> [PrometheusSample] {
        let query = "\(series)[5m]".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let reply = try await HTTP.get(prometheusURL + "/api/v1/query?query=" + query)
        guard reply.status == 200, let object = try reply.json() as? [String: Any], let data = object["data"] as? [String: Any],
            let result = (data["result"] as? [[String: Any]])?.first, let values = result["values"] as? [[Any]]
        else { return [] }
        return values.compactMap { pair in
            guard pair.count == 2, let seconds = (pair[0] as? NSNumber)?.doubleValue, let text = pair[1] as? String, let value = Double(text) else {
                return nil
            }
            return PrometheusSample(milliseconds: Int64((seconds * 1000).rounded()), value: value)
        }
    }

    /// The same series as Sluice stored it: KairosDB's query without an aggregator gives every point in ms.
    func stored(_ stack: SluiceStack, name: String, tags: [String: String], key: KeyCredentials) async throws -> [PrometheusSample] {
        let filter = tags.map { "\"\($0.key)\":[\"\($0.value)\"]" }.joined(separator: ",")
        let body = #"{"start_relative":{"value":10,"unit":"minutes"},"metrics":[{"name":"\#(name)","tags":{\#(filter)}}]}"#
        let reply = try await HTTP.send("POST", stack.queryURL + "/api/v1/prom/datapoints/query", body: Data(body.utf8), credentials: .bearer(key))
        guard reply.status == 200, let object = try reply.json() as? [String: Any], let query = (object["queries"] as? [[String: Any]])?.first,
            let result = (query["results"] as? [[String: Any]])?.first, let values = result["values"] as? [[NSNumber]]
        else { return [] }
        return values.map { PrometheusSample(milliseconds: $0[0].int64Value, value: $0[1].doubleValue) }
    }

    @Test func prometheusRemoteWritesWhatItScrapedAndSluiceStoresItExactly() async throws {
        let prometheus = URL(fileURLWithPath: ProcessInfo.processInfo.environment["SLUICE_TEST_PROMETHEUS"] ?? "/usr/bin/prometheus")
        try #require(
            FileManager.default.isExecutableFile(atPath: prometheus.path),
            "Prometheus is not installed at \(prometheus.path): scripts/test installs Debian's prometheus")
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, requireKeys: true)
            let admin = try #require(stack.adminKey)
            let key = try await stack.createKey(name: "prometheus", rights: "prom:w")
            // Prometheus drops a batch answered 401: ingest must know the key before the first one.
            try await stack.waitUntilIngestKnows(key)
            // Something for the counter to count, before Prometheus first scrapes.
            let time = Int64(Date().timeIntervalSince1970 * 1e9)
            let saved = try await HTTP.send(
                "POST", stack.ingestURL + "/save",
                body: Data(#"[{"tag":"seed","time":\#(time),"values":[1]},{"tag":"seed","time":\#(time + 1),"values":[2]}]"#.utf8), credentials: .bearer(admin))
            #expect(saved.status == 202, "\(saved.text)")

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prometheus-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let ingestHost = String(stack.ingestURL.dropFirst("http://".count))
            let targets = [stack.ingestURL, stack.writerURL, stack.queryURL].map { "'\($0.dropFirst("http://".count))'" }.joined(separator: ", ")
            let config = """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: sluice
                    static_configs:
                      - targets: [\(targets)]
                remote_write:
                  - url: \(stack.ingestURL)/api/v1/write?domain=prom
                    authorization:
                      credentials: \(key.token)
                    queue_config:
                      batch_send_deadline: 1s
                      min_backoff: 100ms
                      max_backoff: 1s
                """
            try config.write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
            let port = freeLoopbackPort()
            let server = try ChildProcess(
                path: prometheus,
                arguments: [
                    "--config.file=\(directory.appendingPathComponent("prometheus.yml").path)",
                    "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                    "--web.listen-address=127.0.0.1:\(port)",
                ])
            let prometheusURL = "http://127.0.0.1:\(port)"
            let series = #"sluice_ingest_messages_accepted_total{format="json",instance="\#(ingestHost)",job="sluice"}"#
            let tags = ["format": "json", "instance": ingestHost, "job": "sluice"]

            // Until Sluice holds a few of the samples Prometheus scraped (scrapes every second, sends every second).
            var inSluice: [PrometheusSample] = []
            var inPrometheus: [PrometheusSample] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                inSluice = try await stored(stack, name: "sluice_ingest_messages_accepted_total", tags: tags, key: admin)
                if inSluice.count >= 3 {
                    inPrometheus = try await scraped(prometheusURL: prometheusURL, series: series)
                    break
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            let status = await server.terminate()
            #expect(inSluice.count >= 3, "Sluice holds \(inSluice.count) samples; Prometheus said:\n\(server.logTail())\n\(stack.logs.suffix(3000))")
            // Every stored sample is one Prometheus scraped, to the millisecond and the bit; the counter counted
            // the two messages of the seed request.
            let scrapedSamples = Set(inPrometheus)
            #expect(inSluice.allSatisfy { scrapedSamples.contains($0) }, "stored \(inSluice), scraped \(inPrometheus)")
            #expect(inSluice.last?.value == 2)
            #expect(status == 0, "\(server.logTail())")
            let accepted = try await HTTP.metric(stack.ingestURL, #"sluice_ingest_messages_accepted_total{format="prometheus"}"#)
            #expect((accepted ?? 0) >= Double(inSluice.count))
        }
    }
}
