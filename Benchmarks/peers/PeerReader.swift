import AsyncHTTPClient
import Foundation
import LoadGen
import NIOCore
import NIOHTTP1

/// What a dashboard asks each system for: a window of 1000 samples of one tag's ten values, each the
/// newest value at or before its sample time — Sluice's `/api` and bridge natively, InfluxDB as
/// `SELECT last(*) … GROUP BY time(window/1000)`, Prometheus as `last_over_time(…[step])` over
/// `query_range` — and, to measure lag, the time of the tag's newest point.
enum ReadTarget: String, CaseIterable, Sendable {
    case api, bridge, influx, prometheus
}

struct PeerReader: Sendable {
    let target: ReadTarget
    let baseURL: String
    let samples: Int

    /// The window `[start, end]` (ns) of `tag`.
    func window(tag: String, start: Int64, end: Int64) -> HTTPClientRequest {
        switch target {
        case .api:
            return get("/api", [("tag", tag), ("start", String(start)), ("end", String(end)), ("samples", String(samples))])
        case .bridge:
            var request = HTTPClientRequest(url: baseURL + "/v1/window")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"tag":"\#(tag)","start_time_ms":\#(start / 1_000_000),"end_time_ms":\#(end / 1_000_000)}"#))
            return request
        case .influx:
            let step = max(1, (end - start) / Int64(samples) / 1000)
            let query = #"SELECT last(*) FROM sluice WHERE "tag" = '\#(tag)' AND time > \#(start) AND time <= \#(end) GROUP BY time(\#(step)u)"#
            return get("/query", [("db", PeerEncoder.influxDatabase), ("epoch", "ns"), ("q", query)])
        case .prometheus:
            let step = max(1, (end - start) / Int64(samples) / 1_000_000)
            return get(
                "/api/v1/query_range",
                [
                    ("query", #"last_over_time(sluice{tag="\#(tag)"}[\#(step)ms])"#), ("start", Self.seconds(start + step * 1_000_000)),
                    ("end", Self.seconds(end)), ("step", Self.seconds(step * 1_000_000)),
                ])
        }
    }

    /// A request for the time of `tag`'s newest point in the ten minutes before `now` (`/api`'s shortest
    /// window), or nil where the target has none (the bridge).
    func newest(tag: String, now: Int64) -> HTTPClientRequest? {
        let since = now - 600_000_000_000
        switch target {
        case .api:
            return get("/api", [("tag", tag), ("start", String(since)), ("end", String(now)), ("samples", "1"), ("measured_at", "true")])
        case .bridge:
            return nil
        case .influx:
            let query = #"SELECT last(v1) FROM sluice WHERE "tag" = '\#(tag)' AND time > \#(since)"#
            return get("/query", [("db", PeerEncoder.influxDatabase), ("epoch", "ns"), ("q", query)])
        case .prometheus:
            return get("/api/v1/query", [("query", #"timestamp(sluice{tag="\#(tag)",value="v1"})"#)])
        }
    }

    /// Whether a window's answer holds any values, so a 200 that says nothing (InfluxDB answers some
    /// errors with 200) is not counted as a read: `"values":[` in `/api`'s samples, `[[` starting a
    /// series' points elsewhere.
    func holdsValues(_ body: ByteBuffer) -> Bool {
        let marker = Array((target == .api ? #""values":["# : "[[").utf8)
        return body.readableBytesView.firstRange(of: marker) != nil
    }

    /// The newest point's time (ns) in an answer to `newest`.
    func newestTime(in body: ByteBuffer) -> Int64? {
        switch target {
        case .api, .bridge:
            return ClientRun.newestMeasurement(in: body)
        case .influx:
            // {"results":[{"series":[{"values":[[TIME,VALUE]]}]}]}
            guard let root = Self.json(body) as? [String: Any], let results = root["results"] as? [[String: Any]],
                let series = results.first?["series"] as? [[String: Any]], let values = series.first?["values"] as? [[Any]],
                let time = values.first?.first as? NSNumber
            else { return nil }
            return time.int64Value
        case .prometheus:
            // {"data":{"result":[{"value":[EVALUATED_AT,"SECONDS"]}]}}: the sample's time in seconds, to the ms.
            guard let root = Self.json(body) as? [String: Any], let data = root["data"] as? [String: Any],
                let result = data["result"] as? [[String: Any]], let value = result.first?["value"] as? [Any],
                let text = value.last as? String, let seconds = Decimal(string: text)
            else { return nil }
            return NSDecimalNumber(decimal: seconds * 1_000_000_000).int64Value
        }
    }

    private func get(_ path: String, _ parameters: [(String, String)]) -> HTTPClientRequest {
        var components = URLComponents()
        components.queryItems = parameters.map { URLQueryItem(name: $0.0, value: $0.1) }
        // URLComponents leaves "+" alone; every server here reads it as a space.
        let query = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        return HTTPClientRequest(url: baseURL + path + "?" + query)
    }

    private static func seconds(_ nanoseconds: Int64) -> String {
        String(format: "%d.%09d", nanoseconds / 1_000_000_000, nanoseconds % 1_000_000_000)
    }

    private static func json(_ body: ByteBuffer) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))
    }
}
