// sluice-bench-formats: sends points in one agent format as fast as they are acknowledged (closed loop),
// for the format throughput comparison in scripts/bench-formats.
//
//   sluice-bench-formats --url URL --format json|influx|prometheus [--duration S] [--batch N]
//       [--concurrency C] [--series S] [--labels L] [--domain D] [--path PATH]
//
// Each point is a distinct (series, time): series `bench.s<k>` (JSON), measurement `bench` field `s<k>`
// (line protocol: series `bench.s<k>`), `__name__="bench_s<k>"` (remote write), time a counter of
// nanoseconds (milliseconds for remote write) from an hour ago. With `--labels L` every series also
// carries L labels (`l0="h<k mod 50>"`, `l1="v1"`, …: a labels object, line-protocol tags, remote-write
// labels), as agents' series do. A 503 is retried after its Retry-After.
// Prints one JSON line: points acknowledged, requests, refusals, seconds, and points/s.
import AsyncHTTPClient
import Foundation
import LoadGen
import NIOCore
import SluiceFormats
import SwiftProtobuf

struct Options {
    var url = "http://127.0.0.1:8080"
    var format = "json"
    var duration: Double = 20
    var batch = 5000
    var concurrency = 4
    var series = 100
    /// Labels per series (0: plain names).
    var labels = 0
    /// Where the points go (the JSON body's domain, `db=`, `domain=`).
    var domain = "bench"
    /// Overrides the format's path (InfluxDB itself: /write?db=bench).
    var path: String?

    static func parse(_ arguments: [String]) -> Options? {
        var options = Options()
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { return nil }
            switch flag {
            case "--url": options.url = value
            case "--format": options.format = value
            case "--duration":
                guard let v = Double(value) else { return nil }
                options.duration = v
            case "--batch":
                guard let v = Int(value), v > 0 else { return nil }
                options.batch = v
            case "--concurrency":
                guard let v = Int(value), v > 0 else { return nil }
                options.concurrency = v
            case "--series":
                guard let v = Int(value), v > 0 else { return nil }
                options.series = v
            case "--labels":
                guard let v = Int(value), (0...32).contains(v) else { return nil }
                options.labels = v
            case "--path": options.path = value
            case "--domain": options.domain = value
            default: return nil
            }
        }
        return ["json", "influx", "prometheus"].contains(options.format) ? options : nil
    }
}

guard let options = Options.parse(Array(CommandLine.arguments.dropFirst())) else {
    FileHandle.standardError.write(
        Data(
            "usage: sluice-bench-formats --url URL --format json|influx|prometheus [--duration S] [--batch N] [--concurrency C] [--series S] [--labels L] [--path PATH]\n"
                .utf8))
    exit(2)
}

/// Hands out distinct point numbers to the senders.
actor Counter {
    private var next: Int64 = 0
    func take(_ count: Int) -> Int64 {
        defer { next += Int64(count) }
        return next
    }
}

/// Series `k`'s labels, in key order: the same every time, so a series is one series.
func labels(ofSeries k: Int) -> [(key: String, value: String)] {
    (0..<options.labels).map { index in ("l\(index)", index == 0 ? "h\(k % 50)" : "v\(index)") }
}

/// Each series' labels as each format writes them, made once: the generator must not starve ingest.
let influxTags = (0..<options.series).map { k in labels(ofSeries: k).map { ",\($0.key)=\($0.value)" }.joined() }
let jsonLabels = (0..<options.series).map { k in
    options.labels == 0 ? "" : #","labels":{"# + labels(ofSeries: k).map { #""\#($0.key)":"\#($0.value)""# }.joined(separator: ",") + "}"
}

/// One request's body, content type and encoding for points `first ..< first + count`.
func body(first: Int64, count: Int, base: Int64) -> (bytes: [UInt8], type: String, encoding: String?) {
    switch options.format {
    case "influx":
        var text = ""
        text.reserveCapacity(count * 40)
        for n in first..<(first + Int64(count)) {
            let k = Int(n) % options.series
            text += "bench\(influxTags[k]) s\(k)=\(n) \(base + n)\n"
        }
        return (Array(text.utf8), "text/plain", nil)
    case "prometheus":
        var request = Prometheus_WriteRequest()
        var bySeries: [Int: Prometheus_TimeSeries] = [:]
        for n in first..<(first + Int64(count)) {
            let k = Int(n) % options.series
            var sample = Prometheus_Sample()
            sample.value = Double(n)
            // Milliseconds: distinct per series as long as each series gets at most one point per ms.
            sample.timestamp = base / 1_000_000 + n
            bySeries[
                k,
                default: {
                    var series = Prometheus_TimeSeries()
                    var label = Prometheus_Label()
                    label.name = "__name__"
                    label.value = "bench_s\(k)"
                    series.labels =
                        [label]
                        + labels(ofSeries: k).map { key, value in
                            var label = Prometheus_Label()
                            label.name = key
                            label.value = value
                            return label
                        }
                    return series
                }()
            ].samples.append(sample)
        }
        request.timeseries = bySeries.keys.sorted().compactMap { bySeries[$0] }
        return (Snappy.compress((try? request.serializedBytes()) ?? []), "application/x-protobuf", "snappy")
    default:
        var text = "["
        text.reserveCapacity(count * 60)
        for n in first..<(first + Int64(count)) {
            if n > first { text += "," }
            let k = Int(n) % options.series
            text += #"{"domain":"\#(options.domain)","tag":"bench.s\#(k)"\#(jsonLabels[k]),"time":\#(base + n),"values":[\#(n)]}"#
        }
        return (Array((text + "]").utf8), "application/json", nil)
    }
}

let path =
    options.path ?? ["influx": "/write?db=\(options.domain)&precision=ns", "prometheus": "/api/v1/write?domain=\(options.domain)", "json": "/save"][
        options.format] ?? "/save"
let base = Int64(Date().timeIntervalSince1970 * 1e9) - 3_600_000_000_000
let counter = Counter()
let started = ContinuousClock.now
let deadline = started + .milliseconds(Int64(options.duration * 1000))
let key = ProcessInfo.processInfo.environment["SLUICE_BENCH_KEY"]

let totals = try await HTTPClient.withLoadClient(connections: options.concurrency) { client in
    try await withThrowingTaskGroup(of: (points: Int, requests: Int, refused: Int).self) { group in
        for _ in 0..<options.concurrency {
            group.addTask {
                var points = 0
                var requests = 0
                var refused = 0
                while ContinuousClock.now < deadline {
                    let first = await counter.take(options.batch)
                    let (bytes, type, encoding) = body(first: first, count: options.batch, base: base)
                    while true {
                        var request = HTTPClientRequest(url: options.url + path)
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: type)
                        if let encoding { request.headers.add(name: "Content-Encoding", value: encoding) }
                        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
                        request.body = .bytes(ByteBuffer(bytes: bytes))
                        let response = try await client.execute(request, timeout: .seconds(60))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        requests += 1
                        if (200..<300).contains(Int(response.status.code)) {
                            points += options.batch
                            break
                        }
                        guard response.status.code == 503 || response.status.code == 429 else {
                            throw NSError(
                                domain: "bench", code: Int(response.status.code), userInfo: [NSLocalizedDescriptionKey: "answered \(response.status.code)"])
                        }
                        refused += 1
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
                return (points, requests, refused)
            }
        }
        var sum = (points: 0, requests: 0, refused: 0)
        for try await part in group {
            sum.points += part.points
            sum.requests += part.requests
            sum.refused += part.refused
        }
        return sum
    }
}
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
print(
    #"{"format":"\#(options.format)","points":\#(totals.points),"requests":\#(totals.requests),"refused":\#(totals.refused),"seconds":\#(String(format: "%.2f", seconds)),"points_per_second":\#(Int(Double(totals.points) / seconds))}"#
)
