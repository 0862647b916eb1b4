import Foundation
import SluiceTestSupport
import Testing

/// Regressions from reading the bridge as an attacker would (issue 12): a job's grid must stay within
/// the windows asked for and hold only fetched values, and unknown series must cost nothing after the
/// first answer.
extension BridgeTests {
    @Test func aWindowFarFromTheGridIsFetchedNotCopiedAndMemoryStaysBounded() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, withBridge: true)
            let nowMs = nowNanoseconds() / 1_000_000
            // Yesterday 20 minutes of values below 100; the last 20 minutes values from 1000 up.
            let yesterdayMs = nowMs - 86_400_000
            let old = (0..<120).map { Posted(tag: "bridge-far", time: (yesterdayMs + Int64($0) * 10_000) * 1_000_000, values: [Double($0)]) }
            let recent = (0..<120).map { Posted(tag: "bridge-far", time: (nowMs - 1_200_000 + Int64($0) * 10_000) * 1_000_000, values: [1000 + Double($0)]) }
            try await postVisible(stack, old + recent)
            // The same data under a second tag, for adjacent windows: the earlier first, then the present.
            // The later one's points must be fetched, since the job knows newer data exists (it probed the
            // series), not copied from the earlier window's last point.
            try await postVisible(stack, recent.map { Posted(tag: "bridge-adjacent", time: $0.time, values: $0.values) })
            let earlier = try await window(stack, tag: "bridge-adjacent", startMs: nowMs - 1_800_000, endMs: nowMs - 900_000)
            let earlierLast = try #require(earlier.points.max { $0.key < $1.key }?.value[0])
            let later = try await window(stack, tag: "bridge-adjacent", startMs: nowMs - 900_000)
            #expect(later.points.values.map { $0[0] }.max() == recent.last?.values[0], "the later window holds \(earlierLast) carried forward")

            let yesterday = try await window(stack, tag: "bridge-far", startMs: yesterdayMs + 60_000, endMs: yesterdayMs + 960_000)
            #expect(yesterday.resolution == 1000)
            #expect(!yesterday.points.isEmpty && yesterday.points.values.allSatisfy { $0[0] < 100 })
            // The same job (same series and resolution) now asked for the last 15 minutes: every point must
            // come from the data of the last 20 minutes, not be yesterday's last value carried forward.
            let now = try await window(stack, tag: "bridge-far", startMs: -900_000)
            #expect(now.points.count >= 895, "only \(now.points.count) points")
            let stale = now.points.filter { $0.value[0] < 1000 }
            #expect(stale.isEmpty, "\(stale.count) points carry yesterday's value, e.g. \(String(describing: stale.first))")
            #expect(now.points.values.map { $0[0] }.max() == recent.last?.values[0])

            // A window in 1970 and then the present for one job: the grid must not span the 56 years between.
            let ancient = try await window(stack, tag: "bridge-far", startMs: 1000, endMs: 901_000)
            #expect(ancient.points.isEmpty, "no data that early")
            let again = try await window(stack, tag: "bridge-far", startMs: -900_000)
            #expect(again.points.count >= 895)
            #expect(stack.bridge?.isRunning == true)
            #expect(try await waitForMetric(stack, "sluice_bridge_cache_bytes", within: .seconds(5)) { $0 > 0 && $0 < 4_000_000 })
            await stack.stop()
        }
    }

    @Test func unknownSeriesCostNothingAfterTheirFirstAnswerAndAreFoundOnceStored() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, withBridge: true)
            // A flood of random tags nobody ever stored: each is answered 404 and keeps no job.
            let tags = (0..<200).map { "nobody-\($0)-\(UInt32.random(in: 0...UInt32.max))" }
            for chunk in stride(from: 0, to: tags.count, by: 20) {
                let replies = try await withThrowingTaskGroup(of: HTTP.Reply.self) { group in
                    for tag in tags[chunk..<chunk + 20] {
                        group.addTask { try await ask(stack, #"{"tag":"\#(tag)","start_time_ms":-900000}"#) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(replies.allSatisfy { $0.status == 404 })
            }
            #expect(try await waitForMetric(stack, "sluice_bridge_active_jobs", within: .seconds(3)) { $0 == 0 })
            let refreshes = try await HTTP.metric(stack.bridgeURL, "sluice_bridge_refreshes_total") ?? 0
            // Asking again is answered from memory; nothing keeps asking the query service in the background.
            for tag in tags.prefix(50) {
                #expect(try await ask(stack, #"{"tag":"\#(tag)","start_time_ms":-900000}"#).status == 404)
            }
            try await Task.sleep(for: .seconds(2))
            #expect(try await HTTP.metric(stack.bridgeURL, "sluice_bridge_refreshes_total") == refreshes)
            #expect(try await HTTP.metric(stack.bridgeURL, "sluice_bridge_active_jobs") == 0)

            // Once stored, the writer's change record makes the series known at once.
            let nowMs = nowNanoseconds() / 1_000_000
            let reply = try await HTTP.post(
                stack.ingestURL + "/save", body: Posted.array([Posted(tag: tags[0], time: (nowMs - 5_000) * 1_000_000, values: [7])]))
            #expect(reply.status == 202)
            let deadline = ContinuousClock.now + .seconds(5)
            var found: HTTP.Reply?
            while ContinuousClock.now < deadline {
                let answer = try await ask(stack, #"{"tag":"\#(tags[0])","start_time_ms":-900000}"#)
                if answer.status == 200 {
                    found = answer
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(found?.status == 200, "a stored series stayed unknown:\n\(stack.logs)")
            await stack.stop()
        }
    }

    @Test func canonicallyEquivalentTagsStayTwoSeriesThroughQueryAndBridge() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, withBridge: true)
            let (decomposed, precomposed) = ("Cafe\u{301}", "Caf\u{E9}")
            let time = nowNanoseconds() - 60_000_000_000
            try await postVisible(stack, [Posted(tag: decomposed, time: time, values: [1])])
            try await postVisible(stack, [Posted(tag: precomposed, time: time, values: [2])])
            for (tag, value) in [(decomposed, 1.0), (precomposed, 2.0), (decomposed, 1.0)] {
                let escaped = tag.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? tag
                let api = try await HTTP.get(stack.queryURL + "/api?tag=\(escaped)&start=-600000000000&samples=1")
                let samples = (try api.json() as? [String: Any])?["samples"] as? [[String: Any]]
                #expect((samples?.last?["values"] as? [Double]) == [value], "/api for \(tag.unicodeScalars.map(\.value)): \(api.text)")
                let bridge = try await ask(stack, #"{"tag":"\#(tag)","start_time_ms":-120000}"#)
                let data = (try bridge.json() as? [String: Any])?["data"] as? [String: Any]
                let points = data?.first(where: { Array($0.key.utf8) == Array(tag.utf8) })?.value as? [[Any]]
                #expect((points?.last?[1] as? [Double]) == [value], "bridge for \(tag.unicodeScalars.map(\.value)): \(bridge.text.prefix(300))")
            }
            await stack.stop()
        }
    }
}
