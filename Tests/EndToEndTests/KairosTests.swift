import Foundation
import SluiceTestSupport
import Testing

/// KairosDB's HTTP API against the real pipeline: metrics with tags written through ingest, read back by
/// the query service with tag filters, grouping, every aggregator with aligned and unaligned sampling,
/// chained aggregators and relative times, each answer checked against a computation written here from
/// KairosDB's definitions; the name listings; and KairosDB's error shape for bad bodies.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct KairosTests {
    struct Point {
        var host: String
        var dc: String
        var time: Int64  // ms
        var value: Double
    }

    let minute: Int64 = 60_000

    /// Three hosts in two data centres, a point every 7 s for 20 minutes ending a minute ago; each host's
    /// times are offset by its own milliseconds, so no two series share a time.
    func points(endingAt end: Int64) -> [Point] {
        var points: [Point] = []
        for (offset, (host, dc)) in [("a", "east"), ("b", "east"), ("c", "west")].enumerated() {
            for step in 0..<172 {
                let time = end - 20 * minute + Int64(step) * 7_000 + Int64(offset)
                points.append(Point(host: host, dc: dc, time: time, value: Double((step * 37 + offset * 11) % 50) * 0.5 - 3))
            }
        }
        return points
    }

    /// The aggregate per range, from KairosDB's definitions; ranges start at multiples of the sampling
    /// (aligned) or at `start`, labelled by their start.
    func expected(_ points: [Point], function: String, sampling: Int64, aligned: Bool, start: Int64) -> [(Int64, Double)] {
        var ranges: [Int64: [Point]] = [:]
        for point in points {
            let origin = aligned ? 0 : start
            let range = origin + (point.time - origin) / sampling * sampling
            ranges[range, default: []].append(point)
        }
        return ranges.keys.sorted().map { range in
            let members = ranges[range]!.sorted { $0.time < $1.time }
            let values = members.map(\.value)
            let value: Double = switch function {
            case "avg": values.reduce(0, +) / Double(values.count)
            case "sum": values.reduce(0, +)
            case "min": values.min()!
            case "max": values.max()!
            case "count": Double(values.count)
            case "first": values.first!
            default: values.last!
            }
            return (range, value)
        }
    }

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)) }

    func query(_ stack: SluiceStack, _ body: String, domain: String = "") async throws -> [String: Any] {
        let reply = try await HTTP.post(stack.queryURL + "/api/v1\(domain)/datapoints/query", body: Data(body.utf8))
        #expect(reply.status == 200, "\(body) → \(reply.text)")
        let object = try #require(try reply.json() as? [String: Any], "\(reply.text)")
        return try #require((object["queries"] as? [[String: Any]])?.first)
    }

    func values(_ result: [String: Any]) -> [(Int64, Double)] {
        ((result["values"] as? [[NSNumber]]) ?? []).map { ($0[0].int64Value, $0[1].doubleValue) }
    }

    func expectEqual(_ got: [(Int64, Double)], _ want: [(Int64, Double)], _ what: String) {
        #expect(got.count == want.count, "\(what): \(got.count) values, expected \(want.count)")
        for (g, w) in zip(got, want) {
            #expect(g.0 == w.0 && close(g.1, w.1), "\(what): got \(g), expected \(w)")
        }
    }

    @Test func writeThenQueryLikeKairosDB() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database)
            let now = nowNanoseconds() / 1_000_000
            let end = now / minute * minute - minute
            let all = points(endingAt: end)
            // Both write forms, in one body.
            let series = Dictionary(grouping: all) { "\($0.host)/\($0.dc)" }.values.map { $0.sorted { $0.time < $1.time } }
            var metrics = series.map { points in
                let datapoints = points.dropFirst().map { "[\($0.time),\($0.value)]" }.joined(separator: ",")
                return #"{"name":"sys.cpu","tags":{"host":"\#(points[0].host)","dc":"\#(points[0].dc)"},"datapoints":[\#(datapoints)]}"#
            }
            metrics += series.map { points in
                #"{"name":"sys.cpu","tags":{"host":"\#(points[0].host)","dc":"\#(points[0].dc)"},"timestamp":\#(points[0].time),"value":\#(points[0].value)}"#
            }
            metrics.append(#"{"name":"plain","datapoints":[[\#(end),1]]}"#)
            let written = try await HTTP.post(stack.ingestURL + "/api/v1/datapoints", body: Data(("[" + metrics.joined(separator: ",") + "]").utf8))
            #expect(written.status == 204, "\(written.text)")
            let other = try await HTTP.post(stack.ingestURL + "/api/v1/ops/datapoints", body: Data(#"{"name":"ops.metric","tags":{"team":"infra"},"timestamp":\#(end),"value":2}"#.utf8))
            #expect(other.status == 204, "\(other.text)")

            let window = #""start_absolute":\#(end - 30 * minute),"end_absolute":\#(end)"#
            // Everything stored: all points of the three series, merged in time order, no aggregator.
            var merged: [String: Any] = [:]
            let deadline = ContinuousClock.now + .seconds(20)
            repeat {
                merged = try await query(stack, #"{\#(window),"metrics":[{"name":"sys.cpu"}]}"#)
                if (merged["sample_size"] as? Int) == all.count { break }
                try await Task.sleep(for: .milliseconds(200))
            } while ContinuousClock.now < deadline
            #expect(merged["sample_size"] as? Int == all.count)
            let results = try #require(merged["results"] as? [[String: Any]])
            #expect(results.count == 1)
            expectEqual(values(results[0]), all.sorted { $0.time < $1.time }.map { ($0.time, $0.value) }, "merged")
            #expect((results[0]["tags"] as? [String: [String]]) == ["dc": ["east", "west"], "host": ["a", "b", "c"]])

            // A tag filter with two values, grouped by host: one result per host, each its own points.
            let grouped = try await query(stack, #"{\#(window),"metrics":[{"name":"sys.cpu","tags":{"host":["a","c"]},"group_by":[{"name":"tag","tags":["host"]}]}]}"#)
            let groups = try #require(grouped["results"] as? [[String: Any]])
            #expect(groups.count == 2)
            for group in groups {
                let by = (group["group_by"] as? [[String: Any]]) ?? []
                let hosts = by.compactMap { ($0["group"] as? [String: String])?["host"] }
                let host = try #require(hosts.first, "\(by)")
                #expect(by.contains { ($0["type"] as? String) == "number" })
                expectEqual(values(group), all.filter { $0.host == host }.map { ($0.time, $0.value) }, "host \(host)")
            }

            // Every aggregator: 1-minute ranges aligned (the minute tier), 2-minute ranges from an unaligned
            // start (the raw rows), over the east data centre's two series merged.
            let east = all.filter { $0.dc == "east" }
            let unalignedStart = end - 30 * minute + 12_345
            for function in ["avg", "min", "max", "sum", "count", "first", "last"] {
                for (sampling, aligned, start) in [(minute, true, end - 30 * minute), (2 * minute, false, unalignedStart)] {
                    let unit = #"{"value":\#(sampling / minute),"unit":"minutes"}"#
                    let body = #"{"start_absolute":\#(start),"end_absolute":\#(end),"metrics":[{"name":"sys.cpu","tags":{"dc":"east"},"aggregators":[{"name":"\#(function)","sampling":\#(unit),"align_sampling":\#(aligned)}]}]}"#
                    let answer = try await query(stack, body)
                    #expect(answer["sample_size"] as? Int == east.count, "\(function)")
                    let result = try #require((answer["results"] as? [[String: Any]])?.first)
                    expectEqual(values(result), expected(east, function: function, sampling: sampling, aligned: aligned, start: start), "\(function) every \(sampling / minute) min, aligned \(aligned)")
                }
            }

            // Chained: the average per minute, then the largest of those per 5 minutes; a relative start.
            let chained = try await query(stack, #"{"start_relative":{"value":1,"unit":"hours"},"metrics":[{"name":"sys.cpu","aggregators":[{"name":"avg","sampling":{"value":1,"unit":"minutes"},"align_sampling":true},{"name":"max","sampling":{"value":5,"unit":"minutes"},"align_sampling":true}]}]}"#)
            let averages = expected(all, function: "avg", sampling: minute, aligned: true, start: 0)
            let maxima = Dictionary(grouping: averages) { $0.0 / (5 * minute) * (5 * minute) }.map { ($0.key, $0.value.map(\.1).max()!) }.sorted { $0.0 < $1.0 }
            let chainedResult = try #require((chained["results"] as? [[String: Any]])?.first)
            expectEqual(values(chainedResult), maxima, "avg then max")

            // Names, tag names and tag values, per domain.
            func listing(_ path: String) async throws -> [String] {
                let reply = try await HTTP.get(stack.queryURL + path)
                #expect(reply.status == 200, "\(path): \(reply.text)")
                return ((try reply.json() as? [String: Any])?["results"] as? [String]) ?? []
            }
            #expect(try await listing("/api/v1/metricnames") == ["plain", "sys.cpu"])
            #expect(try await listing("/api/v1/metricnames?prefix=sys") == ["sys.cpu"])
            #expect(try await listing("/api/v1/tagnames") == ["dc", "host"])
            #expect(try await listing("/api/v1/tagvalues") == ["a", "b", "c", "east", "west"])
            var opsNames: [String] = []
            for _ in 0..<50 {
                opsNames = try await listing("/api/v1/ops/metricnames")
                if !opsNames.isEmpty { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(opsNames == ["ops.metric"])
            #expect(try await listing("/api/v1/ops/tagnames") == ["team"])
            await stack.stop()
        }
    }

    @Test func badBodiesAreRefusedInKairosDBsShape() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database)
            func errors(_ url: String, _ body: String) async throws -> [String] {
                let reply = try await HTTP.post(url, body: Data(body.utf8))
                #expect(reply.status == 400, "\(body) → \(reply.status) \(reply.text)")
                let object = try #require(try reply.json() as? [String: Any], "\(reply.text)")
                return try #require(object["errors"] as? [String], "\(reply.text)")
            }
            let write = stack.ingestURL + "/api/v1/datapoints"
            #expect(try await errors(write, #"[{"name":"m","datapoints":[[1700000000000,"high"]]}]"#).first?.contains("datapoints[0] value must be a number") == true)
            #expect(try await errors(write, #"[{"tags":{"a":"b"},"datapoints":[[1700000000000,1]]}]"#).first?.contains("name is missing") == true)
            #expect(try await errors(write, #"[{"name":"m","tags":{"a":"b"}}]"#).first?.contains("datapoints") == true)
            #expect(try await errors(write, "not json").first?.contains("not KairosDB JSON") == true)
            // One bad metric refuses the request: the good one was not stored.
            let mixed = try await errors(write, #"[{"name":"good","datapoints":[[1700000000000,1]]},{"name":"bad","datapoints":[[1700000000000,"x"]]}]"#)
            #expect(mixed.count == 1 && mixed[0].hasPrefix("metric[1](name=bad)"), "\(mixed)")

            let query = stack.queryURL + "/api/v1/datapoints/query"
            #expect(try await errors(query, #"{"metrics":[{"name":"m"}]}"#).first?.contains("start_absolute or start_relative") == true)
            #expect(try await errors(query, #"{"start_absolute":1,"metrics":[{"name":"m","aggregators":[{"name":"percentile","sampling":{"value":1,"unit":"minutes"}}]}]}"#).first?.contains("not an aggregator Sluice computes") == true)
            #expect(try await errors(query, #"{"start_relative":{"value":1,"unit":"fortnights"},"metrics":[{"name":"m"}]}"#).first?.contains("unit") == true)
            #expect(try await errors(query, #"{"start_absolute":1,"metrics":[{"name":"m","aggregators":[{"name":"avg","sampling":{"value":1,"unit":"months"}}]}]}"#).first?.contains("unit") == true)
            #expect(try await errors(query, "[").first?.contains("not a KairosDB query") == true)
            let names = try await HTTP.get(stack.queryURL + "/api/v1/metricnames")
            #expect(names.status == 200 && names.text == #"{"results":[]}"#, "\(names.text)")
            await stack.stop()
        }
    }
}
