import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore
import SluiceModel
import Synchronization

/// Latency and answers of one service.
public struct EndpointStatistics: Sendable {
    public var latency = LatencySummary.makeHistogram()
    public var statuses: [Int: Int] = [:]
    public var transportErrors = 0

    public var errors: Int { statuses.filter { $0.key != 200 }.values.reduce(0, +) + transportErrors }
    public var requests: Int { statuses.values.reduce(0, +) + transportErrors }
}

/// What the client saw: request latency and answers per service, and data lag.
public struct ClientStatistics: Sendable {
    public var api = EndpointStatistics()
    public var bridge = EndpointStatistics()
    /// Age of the newest measurement in an `/api` response when the response arrived.
    public var lag = LatencySummary.makeHistogram()
    /// Reads that started late because the previous one of the same client was still running.
    public var lateStarts = 0
    /// How long the measured part of the run took, for the rates actually achieved.
    public var elapsed: Duration = .zero

    public var errors: Int { api.errors + bridge.errors }
}

/// Seed 003's readers: each client asks for a random top tag and a random window ending now, on a
/// `ReadSchedule` (once per interval, at a random instant of it) — of `/api`, of
/// the bridge, or of both with the same tag and window.
public final class ClientRun: Sendable {
    private let configuration: ClientConfiguration
    private let client: HTTPClient
    private let statistics = Mutex(ClientStatistics())

    public init(configuration: ClientConfiguration, client: HTTPClient = .shared) {
        self.configuration = configuration
        self.client = client
    }

    public func run() async -> ClientStatistics {
        if configuration.warmUp, configuration.target.asksBridge { await warmUp() }
        let started = ContinuousClock.now
        await withDiscardingTaskGroup { group in
            for index in 0..<configuration.clients {
                group.addTask { await self.runClient(index: index, started: started) }
            }
        }
        return statistics.withLock {
            $0.elapsed = ContinuousClock.now - started
            return $0
        }
    }

    /// Whether the run met its thresholds, with the reasons it did not.
    public func verdict(_ statistics: ClientStatistics) -> [String] {
        var failures: [String] = []
        if configuration.target.asksAPI {
            let latency = LatencySummary(statistics.api.latency)
            let lag = LatencySummary(statistics.lag)
            if latency.count == 0 { failures.append("no /api request succeeded") }
            if latency.p99 > configuration.maxP99.fractionalSeconds * 1000 { failures.append("/api latency p99 \(latency.p99) ms > \(configuration.maxP99)") }
            if lag.count > 0, lag.p99 > configuration.maxLagP99.fractionalSeconds * 1000 {
                failures.append("lag p99 \(lag.p99) ms > \(configuration.maxLagP99)")
            }
            if statistics.api.errors > 0 { failures.append("\(statistics.api.errors) /api requests failed") }
        }
        if configuration.target.asksBridge {
            let latency = LatencySummary(statistics.bridge.latency)
            if latency.count == 0 { failures.append("no bridge request succeeded") }
            if latency.p99 > configuration.maxBridgeP99.fractionalSeconds * 1000 {
                failures.append("bridge latency p99 \(latency.p99) ms > \(configuration.maxBridgeP99)")
            }
            if statistics.bridge.errors > 0 { failures.append("\(statistics.bridge.errors) bridge requests failed") }
        }
        return failures
    }

    private func runClient(index: Int, started: ContinuousClock.Instant) async {
        var generator = SeededGenerator(seed: configuration.seed &+ UInt64(index) &* 7919)
        var schedule = ReadSchedule(started: started, interval: configuration.interval, duration: configuration.duration)
        while let next = schedule.next(using: &generator) {
            let now = ContinuousClock.now
            if next > now {
                try? await Task.sleep(until: next, clock: .continuous)
            } else if now - next > .milliseconds(10) {
                statistics.withLock { $0.lateStarts += 1 }
            }
            await readOnce(using: &generator)
        }
    }

    /// Asks the bridge once for each top tag's longest window (the run's window when it is fixed).
    private func warmUp() async {
        await askEachTopTagOnce(
            topTags: configuration.topTags, window: Int64(configuration.longestWindow.fractionalSeconds * 1_000_000_000), client: client
        ) { tag, start, end in self.bridgeRequest(tag: tag, start: start, end: end) }
    }

    private func bridgeRequest(tag: String, start: Int64, end: Int64) -> HTTPClientRequest {
        let body = ByteBuffer(string: #"{"tag":"\#(tag)","start_time_ms":\#(start / 1_000_000),"end_time_ms":\#(end / 1_000_000)}"#)
        var request = RequestAuthorization.request(
            method: .POST, baseURL: configuration.bridgeURL, path: "/v1/window", body: body, authorization: configuration.authorization)
        request.headers.add(name: "content-type", value: "application/json")
        return request
    }

    private func readOnce(using generator: inout SeededGenerator) async {
        let tag = TagPopularity.name(ofTag: 1 + Int(generator.next() % UInt64(configuration.topTags)))
        let shortest = configuration.shortestWindow.fractionalSeconds
        let longest = configuration.longestWindow.fractionalSeconds
        let window = Int64((shortest + generator.unit() * (longest - shortest)) * 1_000_000_000)
        let end = WallClock.nowNanoseconds()
        if configuration.target.asksBridge {
            _ = await send(bridgeRequest(tag: tag, start: end - window, end: end), recordingIn: \.bridge)
        }
        if configuration.target.asksAPI {
            let request = RequestAuthorization.request(
                method: .GET, baseURL: configuration.url, path: "/api",
                parameters: [("tag", tag), ("start", String(end - window)), ("end", String(end)), ("measured_at", "true")],
                authorization: configuration.authorization
            )
            if let (body, arrived) = await send(request, recordingIn: \.api), let newest = Self.newestMeasurement(in: body) {
                statistics.withLock { _ = $0.lag.record(UInt64(max(1, (arrived - newest) / 1000))) }
            }
        }
    }

    /// Sends one request and records its latency and status.
    /// - Returns: the body of a 200 answer and the wall-clock time (ns) it arrived.
    private func send(_ request: HTTPClientRequest, recordingIn endpoint: WritableKeyPath<ClientStatistics, EndpointStatistics>) async -> (ByteBuffer, Int64)? {
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 64 << 20)
            let micros = UInt64(max(1, (ContinuousClock.now - started).fractionalSeconds * 1_000_000))
            let status = Int(response.status.code)
            statistics.withLock { stats in
                stats[keyPath: endpoint].statuses[status, default: 0] += 1
                if status == 200 { _ = stats[keyPath: endpoint].latency.record(micros) }
            }
            return status == 200 ? (body, WallClock.nowNanoseconds()) : nil
        } catch {
            statistics.withLock { $0[keyPath: endpoint].transportErrors += 1 }
            return nil
        }
    }

    /// The largest `"measuredAt":N` in a response, found by scanning rather than decoding 1000 samples.
    public static func newestMeasurement(in body: ByteBuffer) -> Int64? {
        let marker = Array(#""measuredAt":"#.utf8)
        let bytes = Array(body.readableBytesView)
        var newest: Int64?
        var index = 0
        while index + marker.count < bytes.count {
            if bytes[index] == marker[0], Array(bytes[index..<(index + marker.count)]) == marker {
                var cursor = index + marker.count
                var value: Int64 = 0
                while cursor < bytes.count, bytes[cursor] >= 0x30, bytes[cursor] <= 0x39 {
                    value = value * 10 + Int64(bytes[cursor] - 0x30)
                    cursor += 1
                }
                newest = max(newest ?? value, value)
                index = cursor
            } else {
                index += 1
            }
        }
        return newest
    }
}
