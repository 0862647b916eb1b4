import Foundation
import SluiceTestSupport
import Testing

/// The bridge as a separate process in front of the real query service: what it answers, how fresh it
/// keeps its cache, and how it behaves when jobs idle or the query service goes away.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct BridgeTests {
    /// The parts of a bridge answer the tests look at.
    struct Window {
        var resolution: Int64
        var points: [Int64: [Double]]
        var missing: [Int64]
        var metadataValues: Int?

        init(_ reply: HTTP.Reply, tag: String) throws {
            let object = try #require(try reply.json() as? [String: Any], "\(reply.text)")
            resolution = try #require(object["resolution_ms"] as? Int64)
            let series = try #require((object["data"] as? [String: Any])?[tag] as? [[Any]], "\(reply.text.prefix(500))")
            var points: [Int64: [Double]] = [:]
            for point in series {
                points[try #require(point[0] as? Int64)] = try #require(point[1] as? [Double])
            }
            self.points = points
            missing = try #require(object["missing_timestamps"] as? [Int64])
            metadataValues = ((object["metadata"] as? [String: Any])?[tag] as? [String: Any])?["values"] as? Int
        }
    }

    func ask(_ stack: SluiceStack, _ body: String) async throws -> HTTP.Reply {
        try await HTTP.post(stack.bridgeURL + "/v1/window", body: Data(body.utf8))
    }

    func window(_ stack: SluiceStack, tag: String, startMs: Int64, endMs: Int64? = nil) async throws -> Window {
        let end = endMs.map { #","end_time_ms":\#($0)"# } ?? ""
        let reply = try await ask(stack, #"{"tag":"\#(tag)","start_time_ms":\#(startMs)\#(end)}"#)
        #expect(reply.status == 200, "\(reply.text)")
        return try Window(reply, tag: tag)
    }

    /// Posts and waits until `/api` shows the last of them, so the bridge's first fill sees them all.
    func postVisible(_ stack: SluiceStack, _ measurements: [Posted]) async throws {
        let reply = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(measurements))
        #expect(reply.status == 202, "\(reply.text)")
        guard let last = measurements.max(by: { $0.time < $1.time }) else { return }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let probe = try await HTTP.get(stack.queryURL + "/api?tag=\(last.tag)&start=\(last.time - 600_000_000_000)&end=\(last.time)&samples=1")
            if probe.status == 200, probe.text.contains("\(last.values[0])") { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the posted measurements never became visible in /api:\n\(stack.logs)")
    }

    /// Polls the bridge until the point at `time` holds `value`; returns how long that took, or nil.
    func waitForPoint(_ stack: SluiceStack, tag: String, startMs: Int64, time: Int64, value: Double, within limit: Duration) async throws -> Duration? {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < limit {
            let current = try await window(stack, tag: tag, startMs: startMs)
            if current.points[time]?.first == value { return ContinuousClock.now - started }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Polls one of the bridge's metrics until it satisfies `condition`; false if it never does in time.
    func waitForMetric(_ stack: SluiceStack, _ series: String, within limit: Duration, _ condition: (Double) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let value = try await HTTP.metric(stack.bridgeURL, series), condition(value) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func windowsMatchApiAndStayFreshForNewAndBackfilledData() async throws {
        try await TestDatabase.with { database, _ in
            // A full refresh far off, so only the change feed can show new data within the waits below.
            let stack = try await SluiceStack(database: database, withBridge: true, extraEnvironment: ["SLUICE_BRIDGE_FULL_REFRESH_MS": "300000"])
            let nowMs = nowNanoseconds() / 1_000_000
            // A measurement at every even second for the last 20 minutes: grid points on odd seconds fall
            // between measurements, those on even seconds exactly on one.
            let firstSecond = nowMs / 1000 - 1200
            let sent = (0..<600).map { step -> Posted in
                let second = firstSecond + Int64(step) * 2
                return Posted(tag: "bridge-a", time: second * 1_000_000_000, values: (0..<10).map { Double(step) + Double($0) / 16 })
            }
            try await postVisible(stack, sent)

            // The first request waits for the fill, then matches /api sample for sample on the same grid.
            let startMs = nowMs - 900_000
            let first = try await window(stack, tag: "bridge-a", startMs: startMs)
            #expect(first.resolution == 1000)
            #expect(first.missing.isEmpty, "missing \(first.missing.count) points")
            #expect(first.metadataValues == 10)
            let gridFirst = (startMs + 999) / 1000
            let gridLast = try #require(first.points.keys.max()) / 1000
            #expect(gridLast - gridFirst + 1 >= 895, "only \(gridLast - gridFirst + 1) points")
            let apiStart = (gridFirst - 1) * 1_000_000_000
            let apiEnd = gridLast * 1_000_000_000
            let api = try await HTTP.get(stack.queryURL + "/api?tag=bridge-a&start=\(apiStart)&end=\(apiEnd)&samples=\(gridLast - gridFirst + 1)")
            let samples = try #require((try api.json() as? [String: Any])?["samples"] as? [[String: Any]])
            var compared = 0
            for sample in samples {
                let time = try #require(sample["time"] as? Int64)
                let expected = sample["values"] as? [Double]
                #expect(first.points[time / 1_000_000] == expected, "at \(time)")
                compared += 1
            }
            #expect(compared == Int(gridLast - gridFirst + 1))
            #expect(first.points.count == compared, "the bridge has points /api has not")

            // A new measurement just before the newest grid point: visible through the bridge by the change feed
            // (within a second here when warm; the freshness target is measured by scripts/benchmark).
            let latest = try await window(stack, tag: "bridge-a", startMs: -900_000)
            let newestPoint = try #require(latest.points.keys.max())
            let fresh = Posted(tag: "bridge-a", time: newestPoint * 1_000_000 - 1_000_000, values: [4242.25])
            let freshReply = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array([fresh]))
            #expect(freshReply.status == 202)
            let freshDelay = try await waitForPoint(stack, tag: "bridge-a", startMs: -900_000, time: newestPoint, value: 4242.25, within: .seconds(30))
            FileHandle.standardError.write(Data("bridge: new measurement visible after \(String(describing: freshDelay))\n".utf8))
            #expect(freshDelay != nil, "new data never showed before the full refresh:\n\(stack.logs)")

            // A backfilled measurement in the middle of the window, half a second before an odd grid point:
            // that point (and only it) changes, by the change feed.
            let middleSecond = firstSecond + 2 * 300 + 1
            let backfill = Posted(tag: "bridge-a", time: middleSecond * 1_000_000_000 - 500_000_000, values: [-77.5])
            let backfillReply = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array([backfill]))
            #expect(backfillReply.status == 202)
            let backfillDelay = try await waitForPoint(stack, tag: "bridge-a", startMs: -900_000, time: middleSecond * 1000, value: -77.5, within: .seconds(30))
            FileHandle.standardError.write(Data("bridge: backfilled measurement visible after \(String(describing: backfillDelay))\n".utf8))
            #expect(backfillDelay != nil, "the backfill never showed before the full refresh:\n\(stack.logs)")
            let after = try await window(stack, tag: "bridge-a", startMs: -900_000)
            #expect(after.points[(middleSecond + 1) * 1000]?.first == sent[301].values[0], "the next point still shows the following measurement")

            // A burst of concurrent first requests for one new window starts exactly one job.
            try await postVisible(stack, [Posted(tag: "bridge-burst", time: (nowMs - 60_000) * 1_000_000, values: [1, 2])])
            let jobsBefore = try await HTTP.metric(stack.bridgeURL, "sluice_bridge_jobs_started_total") ?? 0
            let burst = try await withThrowingTaskGroup(of: HTTP.Reply.self) { group in
                for _ in 0..<24 {
                    group.addTask { try await ask(stack, #"{"tags":["bridge-burst"],"start_time_ms":-300000}"#) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(burst.allSatisfy { $0.status == 200 }, "\(burst.map(\.status))")
            #expect(try burst.allSatisfy { try Window($0, tag: "bridge-burst").points.count >= 59 })
            let jobsAfter = try await HTTP.metric(stack.bridgeURL, "sluice_bridge_jobs_started_total") ?? 0
            #expect(jobsAfter - jobsBefore == 1, "\(jobsAfter - jobsBefore) jobs started for one window")

            // Unknown series and bad requests are refused with JSON errors.
            let unknown = try await ask(stack, #"{"tag":"never-stored","start_time_ms":-60000}"#)
            #expect(unknown.status == 404, "\(unknown.text)")
            #expect(unknown.text.contains("never-stored"))
            let backwards = try await ask(stack, #"{"tag":"bridge-a","start_time_ms":-60000,"end_time_ms":-120000}"#)
            #expect(backwards.status == 400, "\(backwards.text)")
            #expect(backwards.text.contains("end_time_ms"))
            #expect(await stack.stop()["bridge"] == 0)
        }
    }

    @Test func idleJobsExpireAndFreeTheirMemory() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, withBridge: true, extraEnvironment: ["SLUICE_BRIDGE_JOB_IDLE_MS": "1000"])
            try await postVisible(stack, [Posted(tag: "bridge-idle", time: nowNanoseconds() - 30_000_000_000, values: [3])])
            let reply = try await ask(stack, #"{"tag":"bridge-idle","start_time_ms":-120000}"#)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try await HTTP.metric(stack.bridgeURL, "sluice_bridge_active_jobs") == 1)
            let deadline = ContinuousClock.now + .seconds(10)
            var active: Double? = 1
            while ContinuousClock.now < deadline {
                active = try await HTTP.metric(stack.bridgeURL, "sluice_bridge_active_jobs")
                if active == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(active == 0)
            #expect(try await HTTP.metric(stack.bridgeURL, #"sluice_bridge_evictions_total{reason="idle"}"#) == 1)
            #expect(try await HTTP.metric(stack.bridgeURL, "sluice_bridge_cache_bytes") == 0)
            await stack.stop()
        }
    }

    @Test func cacheStaysUnderItsCapByEvictingTheLeastRecentlyAsked() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, withBridge: true, extraEnvironment: ["SLUICE_BRIDGE_CACHE_MB": "1"])
            let older = (0..<10).map { "bridge-lru-old-\($0)" }
            let newer = (0..<10).map { "bridge-lru-new-\($0)" }
            let time = nowNanoseconds() - 3_600_000_000_000
            try await postVisible(stack, (older + newer).map { Posted(tag: $0, time: time, values: [0]) })
            // 1000 points at 1 s per window, about 80 KB each (a slot, and its point's text with its time):
            // either group fits under the 1 MiB cap, both do not.
            func askAll(_ tags: [String]) async throws -> HTTP.Reply {
                let list = tags.map { "\"\($0)\"" }.joined(separator: ",")
                let body = #"{"tags":["# + list + #"],"start_time_ms":-1000000}"#
                var reply = try await ask(stack, body)
                let deadline = ContinuousClock.now + .seconds(10)
                while reply.status == 404, ContinuousClock.now < deadline {  // a tag the writer has not stored yet
                    try await Task.sleep(for: .milliseconds(100))
                    reply = try await ask(stack, body)
                }
                return reply
            }
            let first = try await askAll(older)
            #expect(first.status == 200, "\(first.text.prefix(300))")
            try await Task.sleep(for: .milliseconds(300))  // a sweep or more between the two groups
            let second = try await askAll(newer)
            #expect(second.status == 200, "\(second.text.prefix(300))")

            let evicted = try await waitForMetric(stack, #"sluice_bridge_evictions_total{reason="memory"}"#, within: .seconds(5)) { $0 >= 1 }
            #expect(evicted, "nothing was evicted:\n\(stack.logs)")
            // Unfilled points are counted generously until their fill lands, so the figure settles a moment later.
            let underCap = try await waitForMetric(stack, "sluice_bridge_cache_bytes", within: .seconds(5)) { $0 <= 1_048_576 }
            let bytes = try await HTTP.metric(stack.bridgeURL, "sluice_bridge_cache_bytes")
            #expect(underCap, "cache holds \(String(describing: bytes)) B")
            // The most recently asked windows stayed; the least recently asked ones went and start again.
            let started = try await HTTP.metric(stack.bridgeURL, "sluice_bridge_jobs_started_total") ?? 0
            #expect(try await askAll(newer).status == 200)
            #expect(try await HTTP.metric(stack.bridgeURL, "sluice_bridge_jobs_started_total") == started)
            #expect(try await askAll(older).status == 200)
            #expect(try await HTTP.metric(stack.bridgeURL, "sluice_bridge_jobs_started_total").map { $0 > started } == true)
            await stack.stop()
        }
    }

    @Test func queryOutageNamesMissingPointsThenRecovers() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(
                database: database,
                withBridge: true,
                extraEnvironment: ["SLUICE_BRIDGE_HEALTH_CHECK_MS": "500"]
            )
            try await postVisible(stack, [Posted(tag: "bridge-outage", time: nowNanoseconds() - 600_000_000_000, values: [8])])
            #expect(await stack.query.terminate() == 0)

            // No query service: the answer comes at once and names every point it could not fill.
            let started = ContinuousClock.now
            let reply = try await ask(stack, #"{"tag":"bridge-outage","start_time_ms":-300000}"#)
            let waited = ContinuousClock.now - started
            #expect(reply.status == 200, "\(reply.text)")
            let during = try Window(reply, tag: "bridge-outage")
            #expect(during.missing.count >= 299, "\(during.missing.count) missing")
            #expect(during.points.isEmpty)
            // Not the fill timeout per point: one fill timeout (2 s) at most, with room for a slow machine.
            #expect(waited < .seconds(10), "took \(waited)")

            // Once a fill has failed or outlasted the fill timeout, callers no longer wait for one.
            let failed = try await waitForMetric(stack, "sluice_bridge_refresh_failures_total", within: .seconds(15)) { $0 >= 1 }
            #expect(failed, "no refresh failure was counted:\n\(stack.logs)")
            let again = ContinuousClock.now
            let stillDown = try Window(try await ask(stack, #"{"tag":"bridge-outage","start_time_ms":-300000}"#), tag: "bridge-outage")
            #expect(stillDown.missing.count >= 299)
            #expect(ContinuousClock.now - again < .milliseconds(500), "a request during the outage took \(ContinuousClock.now - again)")

            // The query service comes back: the bridge refills by itself.
            try await stack.restartQuery()
            let deadline = ContinuousClock.now + .seconds(15)
            var recovered: Window?
            while ContinuousClock.now < deadline {
                let current = try Window(try await ask(stack, #"{"tag":"bridge-outage","start_time_ms":-300000}"#), tag: "bridge-outage")
                if current.missing.isEmpty {
                    recovered = current
                    break
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            let filled = try #require(recovered, "the bridge never refilled the window:\n\(stack.logs)")
            #expect(filled.points.count >= 299)
            #expect(filled.points.values.allSatisfy { $0 == [8] })
            await stack.stop()
        }
    }
}
