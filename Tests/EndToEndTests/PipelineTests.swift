import Foundation
import PostgresNIO
import SluiceTestSupport
import Testing

/// The real executables as separate processes: POST to ingest, read back through query.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PipelineTests {
    let tenMinutes: Int64 = 600_000_000_000

    /// Sample k's time by the definition, computed independently of the service with 128-bit integers.
    func sampleTime(start: Int64, end: Int64, count: Int, k: Int) -> Int64 {
        Int64(Int128(start) + Int128(k) * Int128(end - start) / Int128(count))
    }

    /// The latest sent measurement at or before `time`: what as-of sampling must return.
    func asOf(_ sent: [Posted], tag: String, time: Int64) -> Posted? {
        sent.filter { $0.tag == tag && $0.time <= time }.max { $0.time < $1.time }
    }

    @Test func postedMeasurementsComeBackAsExactAsOfSamples() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database)
            let base = nowNanoseconds() - 30 * 60_000_000_000
            var sent: [Posted] = []
            for (index, tag) in ["e2e-alpha", "e2e-beta", "e2e-gamma"].enumerated() {
                for step in 0..<60 {
                    // Irregular spacing, so samples fall between measurements and some fall on one exactly.
                    let time = base + Int64(step) * 9_000_000_000 + Int64(index * 1_000 + step * step)
                    let values = (0..<10).map { Double(step) + Double($0) / 8 + Double(index) * 100 }
                    sent.append(Posted(tag: tag, time: time, values: values))
                }
            }
            sent.append(Posted(tag: "e2e-alpha", time: base + 6 * 9_000_000_000, values: [-1]))  // duplicate time: first write wins
            let arrayPart = sent.filter { $0.tag != "e2e-gamma" }
            let ndjsonPart = sent.filter { $0.tag == "e2e-gamma" }
            let first = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(arrayPart))
            #expect(first.status == 202, "\(first.text)")
            #expect(first.text == #"{"accepted":\#(arrayPart.count)}"#)
            let second = try await HTTP.post(stack.ingestURL + "/save", body: Posted.ndjson(ndjsonPart), contentType: "application/x-ndjson")
            #expect(second.status == 202, "\(second.text)")
            let posted = ContinuousClock.now
            let expectedSent = Array(sent.dropLast())  // the duplicate must lose

            let start = base - 1_000
            let end = base + tenMinutes - 1_000
            let count = 120
            var visibleAfter: Duration?
            var answers: [String: [[String: Any]]] = [:]
            while ContinuousClock.now - posted < .seconds(20), visibleAfter == nil {
                answers = [:]
                for tag in ["e2e-alpha", "e2e-beta", "e2e-gamma"] {
                    let reply = try await HTTP.get(stack.queryURL + "/api?tag=\(tag)&start=\(start)&end=\(end)&samples=\(count)")
                    if reply.status == 200, let object = try reply.json() as? [String: Any], let samples = object["samples"] as? [[String: Any]] {
                        answers[tag] = samples
                    }
                }
                let complete = answers.count == 3 && answers.values.allSatisfy { ($0.last?["values"] as? [Double])?.first.map { $0 >= 59 } == true }
                if complete { visibleAfter = ContinuousClock.now - posted } else { try await Task.sleep(for: .milliseconds(20)) }
            }
            let visible = try #require(visibleAfter, "the posted data never became visible:\n\(stack.logs)")
            print("figure: POST → visible in /api after \(visible)")
            // The 2 s freshness target is measured by scripts/benchmark (lag p99), not here: a machine that has
            // just started takes longer for its first batch. This bound only catches data waiting for some
            // periodic work instead of flowing through.
            #expect(visible <= .seconds(10), "visible only after \(visible)")

            for tag in ["e2e-alpha", "e2e-beta", "e2e-gamma"] {
                let samples = try #require(answers[tag])
                #expect(samples.count == count)
                for (offset, sample) in samples.enumerated() {
                    let k = offset + 1
                    let time = sampleTime(start: start, end: end, count: count, k: k)
                    #expect((sample["time"] as? NSNumber)?.int64Value == time, "sample \(k) of \(tag)")
                    let expected = asOf(expectedSent, tag: tag, time: time)
                    if let expected {
                        #expect(sample["values"] as? [Double] == expected.values, "sample \(k) of \(tag) at \(time)")
                    } else {
                        #expect(sample["values"] is NSNull, "sample \(k) of \(tag) precedes every measurement")
                    }
                }
            }
            let statuses = await stack.stop()
            #expect(statuses == ["ingest": 0, "query": 0, "writer": 0], "every service exits 0 on SIGTERM")
        }
    }

    @Test func badInputIsRefusedAndNothingReachesPostgreSQL() async throws {
        try await TestDatabase.with { database, client in
            let stack = try await SluiceStack(
                database: database,
                extraEnvironment: ["SLUICE_INGEST_MAX_BODY_BYTES": "4096", "SLUICE_KAFKA_DELIVERY_TIMEOUT_MS": "1500"]
            )
            let now = nowNanoseconds()
            let cases: [(String, Int, String)] = [
                ("{\"time\":1,\"tag\":\"x\",", 400, "malformed JSON"),
                (#"{"time":"1","tag":"x","values":[1]}"#, 400, "wrong type of time"),
                (#"[{"time":1,"tag":"x","values":[1]},{"time":2,"tag":"x","values":"1"}]"#, 400, "wrong type of values"),
                (#"{"time":1,"tag":"x","values":[NaN]}"#, 400, "NaN"),
                (#"{"time":1,"tag":"x","values":[Infinity]}"#, 400, "Infinity"),
                (#"{"time":1,"tag":"x","values":[1e999]}"#, 400, "overflowing number"),
                (#"{"time":1,"tag":"","values":[1]}"#, 400, "empty tag"),
                (#"{"time":1,"tag":"x","values":[\#((1...65).map(String.init).joined(separator: ","))]}"#, 400, "65 values"),
                ("[" + Array(repeating: #"{"time":1,"tag":"x","values":[1]}"#, count: 200).joined(separator: ",") + "]", 413, "oversized body"),
            ]
            for (body, status, what) in cases {
                let reply = try await HTTP.post(stack.ingestURL + "/save", body: Data(body.utf8))
                #expect(reply.status == status, "\(what): \(reply.text)")
                let error = (try? reply.json() as? [String: Any])?["error"] as? String
                #expect(error?.isEmpty == false, "\(what) must answer a JSON error, got \(reply.text)")
            }
            let mixed = try await HTTP.post(
                stack.ingestURL + "/save", body: Data(#"[{"time":1,"tag":"ok","values":[1]},{"time":2,"tag":"","values":[1]}]"#.utf8))
            let invalid = (try mixed.json() as? [String: Any])?["invalid"] as? [[String: Any]]
            #expect(mixed.status == 400)
            #expect((invalid?.first?["index"] as? Int) == 1, "the bad message is named by its index")

            let unknown = try await HTTP.get(stack.queryURL + "/api?tag=never-posted&start=-3600000000000")
            #expect(unknown.status == 404, "\(unknown.text)")
            let backwards = try await HTTP.get(stack.queryURL + "/api?tag=x&start=\(now)&end=\(now - tenMinutes)")
            #expect(backwards.status == 400, "\(backwards.text)")
            let equal = try await HTTP.get(stack.queryURL + "/api?tag=x&start=\(now)&end=\(now)")
            #expect(equal.status == 400)
            let noSuchPath = try await HTTP.get(stack.queryURL + "/nothing-here")
            #expect(noSuchPath.status == 404)
            #expect(noSuchPath.text.contains("\"error\""))

            // A valid sentinel after the bad requests: once it is stored, anything they let through would be too.
            let sentinel = try await HTTP.post(stack.ingestURL + "/save", body: Data(#"{"time":\#(now),"tag":"sentinel","values":[7]}"#.utf8))
            #expect(sentinel.status == 202)
            let deadline = ContinuousClock.now + .seconds(10)
            var stored: [(String, Int64)] = []
            while ContinuousClock.now < deadline {
                stored = []
                let rows = try await client.query("select s.tag, m.ts from measurements m join series s on s.id = m.series_id")
                for try await row in rows.decode((String, Int64).self) { stored.append(row) }
                if !stored.isEmpty { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(stored.map(\.0) == ["sentinel"])
            var seriesCount = 0
            for try await count in try await client.query("select count(*) from series").decode(Int.self) { seriesCount = count }
            #expect(seriesCount == 1)

            // With Kafka gone, nothing may be acknowledged: 503 with Retry-After within the delivery timeout.
            await stack.broker.stop()
            let started = ContinuousClock.now
            let unavailable = try await HTTP.post(stack.ingestURL + "/save", body: Data(#"{"time":\#(now),"tag":"late","values":[1]}"#.utf8))
            #expect(unavailable.status == 503, "\(unavailable.text)")
            #expect(unavailable.headers["retry-after"] == "1")
            #expect(ContinuousClock.now - started < .seconds(10))
            await stack.stop()
        }
    }
}
