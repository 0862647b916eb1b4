import Foundation
import SluiceTestSupport
import Testing

/// `/api?fn=…` against the real pipeline, each answer checked against a computation written here from
/// the definitions, over a series with gaps, duplicates, counter resets and out-of-order arrival: from
/// the raw rows (a step of 30 s), the 1-minute tier (60 s) and the 1-hour tier (1 h), after late points
/// landed in buckets the tiers had already rolled up.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct AggregationEndToEndTests {
    struct Point {
        var time: Int64
        var values: [Double]
    }

    let second: Int64 = 1_000_000_000

    /// 40 minutes ending a minute ago: a point every 7 s with a 6-minute gap, index 0 a counter that
    /// resets twice, index 1 a gauge, index 2 on every third point only.
    func series(end: Int64) -> [Point] {
        let start = end - 40 * 60 * second
        var points: [Point] = []
        var counter = 0.0
        for step in 0..<343 {
            let time = start + Int64(step) * 7 * second + Int64(step % 5) * 1_000
            if time > start + 12 * 60 * second, time < start + 18 * 60 * second { continue }  // the gap
            counter = step == 120 || step == 250 ? Double(step % 7) : counter + Double(step % 9)
            let gauge = sin(Double(step) / 10) * 50 + Double(step % 13)
            points.append(Point(time: time, values: step % 3 == 0 ? [counter, gauge, Double(step)] : [counter, gauge]))
        }
        return points
    }

    /// The definitions, independently of the service: per bucket and index, over the points in it.
    func expected(_ points: [Point], function: String, first: Int64, step: Int64, count: Int) -> [[Double?]?] {
        (0..<count).map { bucket -> [Double?]? in
            let low = first + Int64(bucket) * step
            let inside = points.filter { $0.time >= low && $0.time < low + step }
            guard !inside.isEmpty else { return nil }
            let width = inside.map(\.values.count).max() ?? 0
            return (0..<width).map { index -> Double? in
                let values = inside.compactMap { index < $0.values.count ? $0.values[index] : nil }
                switch function {
                case "count": return Double(values.count)
                case "sum": return values.reduce(0, +)
                case "avg": return values.reduce(0, +) / Double(values.count)
                case "min": return values.min()
                case "max": return values.max()
                case "first": return values.first
                case "last": return values.last
                case "rate":
                    var increase = 0.0
                    for point in inside where index < point.values.count {
                        guard let before = points.last(where: { $0.time < point.time }), index < before.values.count else { continue }
                        let (v, previous) = (point.values[index], before.values[index])
                        increase += v >= previous ? v - previous : v
                    }
                    return increase / (Double(step) / 1e9)
                default: return nil
                }
            }
        }
    }

    func close(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let a?, let b?): return abs(a - b) <= 1e-9 * max(1, abs(a), abs(b))
        default: return false
        }
    }

    @Test func everyFunctionAndFillMatchesTheDefinition() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database)
            let end = nowNanoseconds() / second * second - 60 * second
            let sent = series(end: end)
            // Late points between stored ones, counters falling: they land in buckets already rolled up.
            let extras = sent.enumerated().filter { $0.offset % 25 == 3 }.map { Point(time: $0.element.time + 3 * second, values: [-5, Double($0.offset)]) }
            let points = (sent + extras).sorted { $0.time < $1.time }
            func body(_ points: [Point], overriding: Double? = nil) -> Data {
                let items = points.map { point in
                    let values = overriding.map { v in point.values.map { _ in v } } ?? point.values
                    return #"{"tag":"agg","time":\#(point.time),"values":[\#(values.map { "\($0)" }.joined(separator: ","))]}"#
                }
                return Data(("[" + items.joined(separator: ",") + "]").utf8)
            }
            // Out of order: the second half first; then a duplicate of every tenth point with other values (first write wins).
            let half = sent.count / 2
            #expect(try await HTTP.post(stack.ingestURL + "/save", body: body(Array(sent[half...]))).status == 202)
            try await Task.sleep(for: .milliseconds(800))  // stored (and rolled up) before the earlier half arrives
            #expect(try await HTTP.post(stack.ingestURL + "/save", body: body(Array(sent[..<half]))).status == 202)
            #expect(
                try await HTTP.post(stack.ingestURL + "/save", body: body(sent.enumerated().filter { $0.offset % 10 == 0 }.map(\.element), overriding: -1))
                    .status == 202)
            try await Task.sleep(for: .milliseconds(800))
            #expect(try await HTTP.post(stack.ingestURL + "/save", body: body(extras)).status == 202)

            let start = end - 40 * 60 * second
            let step = 60 * second
            let base = stack.queryURL + "/api?tag=agg&start=\(start)&end=\(end + 1)"
            // Wait until every point is stored.
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let reply = try await HTTP.get(base + "&fn=count&step=\(step)")
                let samples = ((try? reply.json() as? [String: Any])?["samples"] as? [[String: Any]]) ?? []
                let stored = samples.compactMap { ($0["values"] as? [Double])?.first }.reduce(0, +)
                if stored == Double(points.count) { break }
                try await Task.sleep(for: .milliseconds(200))
            }

            for (bucketStep, source) in [(step, "1m"), (30 * second, "raw"), (3600 * second, "1h")] {
                for function in ["last", "first", "min", "max", "avg", "sum", "count", "rate"] {
                    let reply = try await HTTP.get(base + "&fn=\(function)&step=\(bucketStep)")
                    #expect(reply.status == 200, "\(reply.text)")
                    let object = try #require(try reply.json() as? [String: Any])
                    #expect(object["fn"] as? String == function && (object["step"] as? NSNumber)?.int64Value == bucketStep)
                    #expect(object["source"] as? String == source)
                    let samples = try #require(object["samples"] as? [[String: Any]])
                    let first = start / bucketStep * bucketStep
                    let want = expected(points, function: function, first: first, step: bucketStep, count: samples.count)
                    #expect(samples.count == Int((end - first) / bucketStep) + 1)
                    for (index, sample) in samples.enumerated() {
                        #expect((sample["time"] as? NSNumber)?.int64Value == first + Int64(index) * bucketStep)
                        let got = (sample["values"] as? [Any]).map { $0.map { ($0 as? NSNumber)?.doubleValue } }
                        let matches = got?.count == want[index]?.count && zip(got ?? [], want[index] ?? []).allSatisfy(close)
                        #expect(
                            (got == nil && want[index] == nil) || matches,
                            "\(source) \(function) bucket \(index): got \(String(describing: got)), want \(String(describing: want[index]))")
                    }
                }
            }

            // Fills over the gap: left out, carried forward, interpolated.
            let gapped = expected(points, function: "avg", first: start / step * step, step: step, count: 41)
            let empty = gapped.indices.filter { gapped[$0] == nil }
            #expect(empty.count >= 5)
            let none = try #require(try await HTTP.get(base + "&fn=avg&step=\(step)&fill=none").json() as? [String: Any])
            #expect((none["samples"] as? [Any])?.count == 41 - empty.count)
            let previous = try #require(try await HTTP.get(base + "&fn=avg&step=\(step)&fill=previous").json() as? [String: Any])
            let previousSamples = try #require(previous["samples"] as? [[String: Any]])
            let before = try #require(gapped[empty[0] - 1])
            #expect((previousSamples[empty[0]]["values"] as? [Double]).map { zip($0, before).allSatisfy { close($0, $1) } } == true)
            let linear = try #require(try await HTTP.get(base + "&fn=avg&step=\(step)&fill=linear").json() as? [String: Any])
            let linearSamples = try #require(linear["samples"] as? [[String: Any]])
            // The 6-minute gap: from the first empty bucket to the next full one (the window's last bucket
            // may be empty too, depending on where in its minute the window starts).
            let middle = empty[0]
            let left = middle - 1
            let right = try #require(gapped.indices.first { $0 > middle && gapped[$0] != nil })
            let a = try #require(gapped[left]?[1])
            let b = try #require(gapped[right]?[1])
            let interpolated = (linearSamples[middle]["values"] as? [Any]).flatMap { ($0[1] as? NSNumber)?.doubleValue }
            #expect(close(interpolated, a + (b - a) * Double(middle - left) / Double(right - left)))

            // The default step: the smallest of 1 s, 5 s, 10 s, 30 s, … giving at most `samples` buckets.
            let chosen = try #require(try await HTTP.get(base + "&fn=max&samples=100").json() as? [String: Any])
            #expect((chosen["step"] as? NSNumber)?.int64Value == 30 * second)
            // Bad parameters are refused, naming the parameter.
            for (query, parameter) in [("&fn=median", "fn"), ("&fn=avg&step=-5", "step"), ("&fn=avg&fill=zero", "fill"), ("&step=60000000000", "step")] {
                let refused = try await HTTP.get(base + query)
                #expect(refused.status == 400 && refused.text.contains(parameter), "\(query): \(refused.text)")
            }
            await stack.stop()
        }
    }
}
