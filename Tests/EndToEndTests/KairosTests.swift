import CompressNIO
import Foundation
import NIOCore
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

    enum Stamp: String {
        case firstPoint = ""
        case start = "align_start_time"
        case end = "align_end_time"
    }

    /// KairosDB's range aggregator written out from its `RangeAggregator`: points in time order, ranges of
    /// `sampling` counted from `origin`, each range's aggregate stamped with its first point's time, its
    /// start or its end.
    func expected(_ points: [(Int64, Double)], function: String, sampling: Int64, origin: Int64, stamp: Stamp = .firstPoint) -> [(Int64, Double)] {
        var ranges: [Int64: [(Int64, Double)]] = [:]
        for point in points { ranges[origin + (point.0 - origin) / sampling * sampling, default: []].append(point) }
        return ranges.keys.sorted().map { range in
            let members = ranges[range]!.sorted { $0.0 < $1.0 }
            let values = members.map(\.1)
            let value: Double =
                switch function {
                case "avg": values.reduce(0, +) / Double(values.count)
                case "sum": values.reduce(0, +)
                case "min": values.min()!
                case "max": values.max()!
                case "count": Double(values.count)
                case "first": values.first!
                default: values.last!
                }
            let time =
                switch stamp {
                case .firstPoint: members[0].0
                case .start: range
                case .end: range + sampling
                }
            return (time, value)
        }
    }

    /// KairosDB's rate: per consecutive pair, the change over the milliseconds between them times `per` ms.
    func rate(_ points: [(Int64, Double)], per: Int64) -> [(Int64, Double)] {
        zip(points, points.dropFirst()).map { a, b in (b.0, (b.1 - a.1) / Double(b.0 - a.0) * Double(per)) }
    }

    let day: Int64 = 86_400_000

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
            // Another domain, gzipped as KairosDB's Java client sends it.
            var plain = ByteBuffer(string: #"{"name":"ops.metric","tags":{"team":"infra"},"timestamp":\#(end),"value":2}"#)
            let gzipped = try plain.compress(with: .gzip())
            let other = try await HTTP.send(
                "POST", stack.ingestURL + "/api/v1/ops/datapoints", body: Data(gzipped.readableBytesView), credentials: .none,
                extraHeaders: ["Content-Encoding": "gzip"]
            )
            #expect(other.status == 204, "\(other.text)")
            // Two series with points in the same milliseconds: merged, they have no rate.
            let twins =
                #"[{"name":"twin","tags":{"k":"1"},"datapoints":[[\#(end - minute),1],[\#(end),2]]},{"name":"twin","tags":{"k":"2"},"datapoints":[[\#(end - minute),3],[\#(end),5]]}]"#
            let twinWrite = try await HTTP.post(stack.ingestURL + "/api/v1/datapoints", body: Data(twins.utf8))
            #expect(twinWrite.status == 204, "\(twinWrite.text)")

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
            let grouped = try await query(
                stack, #"{\#(window),"metrics":[{"name":"sys.cpu","tags":{"host":["a","c"]},"group_by":[{"name":"tag","tags":["host"]}]}]}"#)
            let groups = try #require(grouped["results"] as? [[String: Any]])
            #expect(groups.count == 2)
            for group in groups {
                let by = (group["group_by"] as? [[String: Any]]) ?? []
                let hosts = by.compactMap { ($0["group"] as? [String: String])?["host"] }
                let host = try #require(hosts.first, "\(by)")
                #expect(by.contains { ($0["type"] as? String) == "number" })
                expectEqual(values(group), all.filter { $0.host == host }.map { ($0.time, $0.value) }, "host \(host)")
            }

            // Every aggregator over the east data centre's two series merged: 1-minute ranges aligned to the
            // day (KairosDB's default; the minute tier) stamped with each range's first point; 2-minute ranges
            // from an unaligned start stamped with their start (the raw rows); 7-minute ranges aligned to the
            // day, which are not multiples of 7 minutes since 1970, stamped with their end, over a window that
            // starts and ends inside ranges, so points just outside it must not count; and a day-long range
            // that the window cuts at both ends.
            let east = all.filter { $0.dc == "east" }.map { ($0.time, $0.value) }.sorted { $0.0 < $1.0 }
            let cases: [(sampling: Int64, aligned: Bool, stamp: Stamp, start: Int64, end: Int64)] = [
                (minute, true, .firstPoint, end - 30 * minute, end),
                (2 * minute, false, .start, end - 30 * minute + 12_345, end),
                (7 * minute, true, .end, end - 10 * minute + 12_345, end - 2 * minute - 4_321),
                // One day-long range cut at both ends by the window.
                (1440 * minute, true, .start, end - 10 * minute + 12_345, end - 2 * minute - 4_321),
            ]
            for function in ["avg", "min", "max", "sum", "count", "first", "last"] {
                for one in cases {
                    let unit = #"{"value":\#(one.sampling / minute),"unit":"minutes"}"#
                    let stamp = one.stamp == .firstPoint ? "" : #","\#(one.stamp.rawValue)":true"#
                    let body =
                        #"{"start_absolute":\#(one.start),"end_absolute":\#(one.end),"metrics":[{"name":"sys.cpu","tags":{"dc":"east"},"aggregators":[{"name":"\#(function)","sampling":\#(unit),"align_sampling":\#(one.aligned)\#(stamp)}]}]}"#
                    let answer = try await query(stack, body)
                    let inside = east.filter { $0.0 >= one.start && $0.0 <= one.end }
                    #expect(answer["sample_size"] as? Int == inside.count, "\(function): \(body)")
                    let result = try #require((answer["results"] as? [[String: Any]])?.first)
                    let origin = one.aligned ? one.start / day * day : one.start
                    let want = expected(inside, function: function, sampling: one.sampling, origin: origin, stamp: one.stamp)
                    expectEqual(values(result), want, "\(function) every \(one.sampling / minute) min, aligned \(one.aligned), \(one.stamp)")
                }
            }

            // Chained: the average per minute, then the largest of those per 5 minutes; a relative start.
            let chained = try await query(
                stack,
                #"{"start_relative":{"value":1,"unit":"hours"},"metrics":[{"name":"sys.cpu","aggregators":[{"name":"avg","sampling":{"value":1,"unit":"minutes"},"align_sampling":true},{"name":"max","sampling":{"value":5,"unit":"minutes"},"align_sampling":true}]}]}"#
            )
            let everything = all.map { ($0.time, $0.value) }.sorted { $0.0 < $1.0 }
            let averages = expected(everything, function: "avg", sampling: minute, origin: 0)
            let chainedResult = try #require((chained["results"] as? [[String: Any]])?.first)
            expectEqual(values(chainedResult), expected(averages, function: "max", sampling: 5 * minute, origin: 0), "avg then max")

            // rate: per second between one series' raw points (`unit`), and per minute over the minute
            // averages (`sampling`).
            let hostA = all.filter { $0.host == "a" }.map { ($0.time, $0.value) }.sorted { $0.0 < $1.0 }
            let perSecond = try await query(
                stack, #"{\#(window),"metrics":[{"name":"sys.cpu","tags":{"host":"a"},"aggregators":[{"name":"rate","unit":"seconds"}]}]}"#)
            expectEqual(values(try #require((perSecond["results"] as? [[String: Any]])?.first)), rate(hostA, per: 1000), "rate per second")
            let averagedRate = try await query(
                stack,
                #"{\#(window),"metrics":[{"name":"sys.cpu","tags":{"host":"a"},"aggregators":[{"name":"avg","sampling":{"value":1,"unit":"minutes"}},{"name":"rate","sampling":{"value":1,"unit":"minutes"}}]}]}"#
            )
            let hostAverages = expected(hostA, function: "avg", sampling: minute, origin: 0)
            expectEqual(values(try #require((averagedRate["results"] as? [[String: Any]])?.first)), rate(hostAverages, per: minute), "avg then rate per minute")

            // Two points in one millisecond have no rate, in KairosDB's words of refusal.
            let twinBody = Data(#"{\#(window),"metrics":[{"name":"twin","aggregators":[{"name":"rate"}]}]}"#.utf8)
            var sameTime = try await HTTP.post(stack.queryURL + "/api/v1/datapoints/query", body: twinBody)
            let twinDeadline = ContinuousClock.now + .seconds(20)
            while sameTime.status == 200, ContinuousClock.now < twinDeadline {
                try await Task.sleep(for: .milliseconds(200))
                sameTime = try await HTTP.post(stack.queryURL + "/api/v1/datapoints/query", body: twinBody)
            }
            #expect(sameTime.status == 400 && sameTime.text.contains("no rate between them"), "\(sameTime.text)")

            // Tags of each metric's matching series, with no values.
            let tagQuery = try await HTTP.post(
                stack.queryURL + "/api/v1/datapoints/query/tags",
                body: Data(#"{\#(window),"metrics":[{"name":"sys.cpu","tags":{"dc":["east"]}},{"name":"plain"}]}"#.utf8))
            #expect(tagQuery.status == 200, "\(tagQuery.text)")
            #expect(
                tagQuery.text
                    == #"{"queries":[{"results":[{"name":"sys.cpu","tags":{"dc":["east"],"host":["a","b"]},"values":[]},{"name":"plain","tags":{},"values":[]}]}]}"#,
                "\(tagQuery.text)"
            )

            // Names, tag names and tag values, per domain.
            func listing(_ path: String) async throws -> [String] {
                let reply = try await HTTP.get(stack.queryURL + path)
                #expect(reply.status == 200, "\(path): \(reply.text)")
                return ((try reply.json() as? [String: Any])?["results"] as? [String]) ?? []
            }
            #expect(try await listing("/api/v1/metricnames") == ["plain", "sys.cpu", "twin"])
            #expect(try await listing("/api/v1/metricnames?prefix=sys") == ["sys.cpu"])
            #expect(try await listing("/api/v1/tagnames") == ["dc", "host", "k"])
            #expect(try await listing("/api/v1/tagvalues") == ["1", "2", "a", "b", "c", "east", "west"])
            var opsNames: [String] = []
            for _ in 0..<50 {
                opsNames = try await listing("/api/v1/ops/metricnames")
                if !opsNames.isEmpty { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(opsNames == ["ops.metric"])
            #expect(try await listing("/api/v1/ops/tagnames") == ["team"])

            // KairosDB's version and health probes.
            let version = try await HTTP.get(stack.queryURL + "/api/v1/version")
            let versionText = (try version.json() as? [String: String])?["version"]
            #expect(version.status == 200 && versionText?.hasPrefix("KairosDB ") == true, "\(version.text)")
            #expect(try await HTTP.get(stack.queryURL + "/api/v1/health/check").status == 204)
            let status = try await HTTP.get(stack.queryURL + "/api/v1/health/status")
            #expect(status.status == 200 && status.text == #"["Datastore-Query: OK"]"#, "\(status.text)")
            await stack.stop()
        }
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// kairosdb-python from PyPI, run by `scripts/agents/kairos-clients.py`: it checks health, writes through
    /// ingest, and reads back every point merged and the 10-second averages grouped by host, which must
    /// equal KairosDB's definitions computed here from what it wrote.
    @Test func theKairosDBPythonClientWritesAndReadsBack() async throws {
        let python = try TestSettings.agentsPython()
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database)
            let base = (nowNanoseconds() / 1_000_000 - 10 * minute) / 1000 * 1000 + 123
            let script = Self.root.appendingPathComponent("scripts/agents/kairos-clients.py").path
            let ran = try await Program.run(python, [script, stack.ingestURL, stack.queryURL, String(base), "60"], within: .seconds(120))
            #expect(ran.succeeded, "\(ran.errors)\n\(stack.logs)")
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(ran.output.utf8)) as? [String: Any], "\(ran.errors)")
            let written = try #require(answer["written"] as? [[Any]]).compactMap { row -> (host: String, time: Int64, value: Double)? in
                guard let host = row[0] as? String, let time = row[1] as? NSNumber, let value = row[2] as? NSNumber else { return nil }
                return (host, time.int64Value, value.doubleValue)
            }
            #expect(written.count == 120)
            #expect(answer["status"] as? [String] == ["Datastore-Query: OK"])
            #expect((answer["names"] as? [String: Any])?["results"] as? [String] == ["agent.load"])

            let merged = try #require(((answer["merged"] as? [String: Any])?["queries"] as? [[String: Any]])?.first)
            let mergedResult = try #require((merged["results"] as? [[String: Any]])?.first)
            expectEqual(values(mergedResult), written.map { ($0.time, $0.value) }.sorted { $0.0 < $1.0 }, "merged")

            let grouped = try #require(((answer["grouped"] as? [String: Any])?["queries"] as? [[String: Any]])?.first)
            let groups = try #require(grouped["results"] as? [[String: Any]])
            #expect(groups.count == 2)
            for group in groups {
                let host = try #require((group["tags"] as? [String: [String]])?["host"]?.first)
                let points = written.filter { $0.host == host }.map { ($0.time, $0.value) }
                let want = expected(points, function: "avg", sampling: 10_000, origin: base / day * day)
                expectEqual(values(group), want, "host \(host) every 10 s")
            }
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
            #expect(
                try await errors(write, #"[{"name":"m","datapoints":[[1700000000000,"high"]]}]"#).first?.contains("datapoints[0] value must be a number")
                    == true)
            #expect(try await errors(write, #"[{"tags":{"a":"b"},"datapoints":[[1700000000000,1]]}]"#).first?.contains("name is missing") == true)
            #expect(try await errors(write, #"[{"name":"m","tags":{"a":"b"}}]"#).first?.contains("datapoints") == true)
            #expect(try await errors(write, "not json").first?.contains("not KairosDB JSON") == true)
            // One bad metric refuses the request: the good one was not stored.
            let mixed = try await errors(write, #"[{"name":"good","datapoints":[[1700000000000,1]]},{"name":"bad","datapoints":[[1700000000000,"x"]]}]"#)
            #expect(mixed.count == 1 && mixed[0].hasPrefix("metric[1](name=bad)"), "\(mixed)")

            let query = stack.queryURL + "/api/v1/datapoints/query"
            #expect(try await errors(query, #"{"metrics":[{"name":"m"}]}"#).first?.contains("start_absolute or start_relative") == true)
            #expect(
                try await errors(
                    query, #"{"start_absolute":1,"metrics":[{"name":"m","aggregators":[{"name":"percentile","sampling":{"value":1,"unit":"minutes"}}]}]}"#
                ).first?.contains("not an aggregator Sluice computes") == true)
            #expect(try await errors(query, #"{"start_relative":{"value":1,"unit":"fortnights"},"metrics":[{"name":"m"}]}"#).first?.contains("unit") == true)
            #expect(
                try await errors(query, #"{"start_absolute":1,"metrics":[{"name":"m","aggregators":[{"name":"avg","sampling":{"value":1,"unit":"months"}}]}]}"#)
                    .first?.contains("unit") == true)
            #expect(try await errors(query, "[").first?.contains("not a KairosDB query") == true)
            let names = try await HTTP.get(stack.queryURL + "/api/v1/metricnames")
            #expect(names.status == 200 && names.text == #"{"results":[]}"#, "\(names.text)")
            await stack.stop()
        }
    }
}
