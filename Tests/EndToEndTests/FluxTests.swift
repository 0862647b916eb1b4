import Foundation
import PostgresNIO
import SluiceSigning
import SluiceTestSupport
import Testing

/// Skyline Flux's endpoints (seed 004) against the real pipeline with keys required: every endpoint,
/// the age and future limits, dedup that keeps the first value yet stores never-seen older times,
/// `test: true`, and Flux's 400 and 401 shapes.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct FluxTests {
    func stored(_ client: PostgresClient, metric: String) async throws -> [Int64: Double] {
        var points: [Int64: Double] = [:]
        let rows = try await client.query(
            "select m.ts, m.vals[1] from measurements m join series s on s.id = m.series_id where s.domain = 'flux' and s.tag = \(metric)")
        for try await (time, value) in rows.decode((Int64, Double).self) { points[time / 1_000_000_000] = value }
        return points
    }

    func waitFor(_ client: PostgresClient, metric: String, count: Int) async throws -> [Int64: Double] {
        var points: [Int64: Double] = [:]
        let deadline = ContinuousClock.now + .seconds(20)
        repeat {
            points = try await stored(client, metric: metric)
            if points.count >= count { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        return points
    }

    @Test func everyEndpointWithItsLimitsDedupAndShapes() async throws {
        try await TestDatabase.with { database, client in
            let stack = try await SluiceStack(database: database, requireKeys: true)
            let key = try await stack.createKey(name: "flux", rights: "flux:rw")
            try await stack.waitUntilIngestKnows(key)
            let now = Int64(Date().timeIntervalSince1970)
            func get(_ query: String) async throws -> HTTP.Reply {
                try await HTTP.get(stack.ingestURL + "/flux/metric_data?" + query)
            }
            func post(_ path: String, _ body: String) async throws -> HTTP.Reply {
                try await HTTP.post(stack.ingestURL + "/flux/" + path, body: Data(body.utf8))
            }
            func shape(_ reply: HTTP.Reply) -> (Int?, String) {
                let object = (try? reply.json()) as? [String: Any]
                return ((object?["code"] as? NSNumber)?.intValue, object?["message"] as? String ?? reply.text)
            }

            // GET, and POST of one metric (strings, as Flux's examples send) and of several (numbers).
            #expect(try await get("metric=vista.cpu.user&timestamp=\(now - 10)&value=1.5&key=\(key.token)&fill=true").status == 204)
            #expect(
                try await post("metric_data_post", #"{"metric":"vista.cpu.user","timestamp":"\#(now - 5)","value":"2.5","key":"\#(key.token)"}"#).status == 204)
            let many = try await post(
                "metric_data_post",
                #"{"key":"\#(key.token)","metrics":[{"metric":"vista.cpu.user","timestamp":\#(now),"value":3},{"metric":"a+b%c/d=e:f;g","timestamp":\#(now),"value":-1e3}]}"#
            )
            #expect(many.status == 204, "\(many.text)")
            #expect(try await waitFor(client, metric: "vista.cpu.user", count: 3) == [now - 10: 1.5, now - 5: 2.5, now: 3])
            #expect(try await waitFor(client, metric: "a+b%c/d=e:f;g", count: 1) == [now: -1000])

            // Dedup: the same (metric, timestamp) keeps its first value; an older time never stored is kept.
            #expect(try await get("metric=vista.cpu.user&timestamp=\(now - 5)&value=99&key=\(key.token)").status == 204)
            #expect(try await get("metric=vista.cpu.user&timestamp=\(now - 20)&value=0.5&key=\(key.token)").status == 204)
            let deduped = try await waitFor(client, metric: "vista.cpu.user", count: 4)
            #expect(deduped[now - 5] == 2.5 && deduped[now - 20] == 0.5 && deduped.count == 4, "\(deduped)")

            // Backfill without the age limit; the age and future limits elsewhere.
            let days = (1...3).map { "[\(now - 86_400 * Int64($0)),\($0)]" }.joined(separator: ",")
            #expect(try await post("populate_metric", #"{"key":"\#(key.token)","metric":"vista.backfill","datapoints":[\#(days)]}"#).status == 204)
            #expect(try await waitFor(client, metric: "vista.backfill", count: 3).count == 3)
            let old = try await get("metric=vista.old&timestamp=\(now - 7200)&value=1&key=\(key.token)")
            #expect(old.status == 400 && shape(old).0 == 400 && shape(old).1.contains("populate_metric"), "\(old.text)")
            let ahead = try await get("metric=vista.old&timestamp=\(now + 600)&value=1&key=\(key.token)")
            #expect(ahead.status == 400 && shape(ahead).1.contains("future"), "\(ahead.text)")

            // One bad metric refuses the request whole; test:true checks and stores nothing.
            let oneBad = try await post(
                "metric_data_post",
                #"{"key":"\#(key.token)","metrics":[{"metric":"vista.whole","timestamp":\#(now),"value":1},{"metric":"bad name","timestamp":\#(now),"value":1}]}"#
            )
            #expect(oneBad.status == 400 && shape(oneBad).0 == 400 && shape(oneBad).1.contains("metrics[1]"), "\(oneBad.text)")
            let tested = try await post("metric_data_post", #"{"key":"\#(key.token)","test":true,"metric":"vista.tested","timestamp":\#(now),"value":1}"#)
            #expect(tested.status == 204)
            let testedBad = try await post("metric_data_post", #"{"key":"\#(key.token)","test":true,"metric":"vista.tested","timestamp":\#(now),"value":"x"}"#)
            #expect(testedBad.status == 400 && shape(testedBad).1.contains("not a finite number"))

            // Keys: none, a wrong one, one without rights on the domain asked for: Flux's shape.
            let none = try await get("metric=vista.k&timestamp=\(now)&value=1")
            #expect(none.status == 401 && shape(none).0 == 401, "\(none.text)")
            let wrong = try await post("metric_data_post", #"{"metric":"vista.k","timestamp":\#(now),"value":1,"key":"\#(key.keyID).wrong"}"#)
            #expect(wrong.status == 401 && shape(wrong).0 == 401, "\(wrong.text)")
            let elsewhere = try await get("metric=vista.k&timestamp=\(now)&value=1&domain=other&key=\(key.token)")
            #expect(elsewhere.status == 403 && shape(elsewhere).0 == 403, "\(elsewhere.text)")

            // Nothing of the refused or tested requests was stored.
            try await Task.sleep(for: .seconds(1))
            for metric in ["vista.whole", "vista.tested", "vista.old", "vista.k"] {
                #expect(try await stored(client, metric: metric).isEmpty, "\(metric) was stored")
            }
            let accepted = try await HTTP.metric(stack.ingestURL, #"sluice_ingest_messages_accepted_total{format="flux"}"#)
            // 1 + 1 + 2 (the first three requests), 2 (dedup), 3 (backfill); the duplicate counts: Kafka took it.
            #expect(accepted == 9)
        }
    }
}
