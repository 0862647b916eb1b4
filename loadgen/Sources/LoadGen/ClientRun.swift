import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore
import SluiceModel
import Synchronization

/// What the client saw: request latency, data lag, and answers by status.
public struct ClientStatistics: Sendable {
    public var latency = LatencySummary.makeHistogram()
    /// Age of the newest measurement in a response when the response arrived.
    public var lag = LatencySummary.makeHistogram()
    public var statuses: [Int: Int] = [:]
    public var transportErrors = 0
    /// Requests that started late because the previous one of the same client was still running.
    public var lateStarts = 0

    public var errors: Int { statuses.filter { $0.key != 200 }.values.reduce(0, +) + transportErrors }
}

/// Seed 003's readers: each client asks `/api` for a random top tag and a random window ending now,
/// once per interval, on a fixed schedule (a slow answer does not push the next request back).
public final class ClientRun: Sendable {
    private let configuration: ClientConfiguration
    private let client: HTTPClient
    private let statistics = Mutex(ClientStatistics())

    public init(configuration: ClientConfiguration, client: HTTPClient = .shared) {
        self.configuration = configuration
        self.client = client
    }

    public func run() async -> ClientStatistics {
        await withDiscardingTaskGroup { group in
            for index in 0..<configuration.clients {
                group.addTask { await self.runClient(index: index) }
            }
        }
        return statistics.withLock { $0 }
    }

    /// Whether the run met its thresholds, with the reasons it did not.
    public func verdict(_ statistics: ClientStatistics) -> [String] {
        var failures: [String] = []
        let latency = LatencySummary(statistics.latency)
        let lag = LatencySummary(statistics.lag)
        if latency.count == 0 { failures.append("no request succeeded") }
        if latency.p99 > configuration.maxP99.seconds * 1000 { failures.append("latency p99 \(latency.p99) ms > \(configuration.maxP99)") }
        if lag.count > 0, lag.p99 > configuration.maxLagP99.seconds * 1000 { failures.append("lag p99 \(lag.p99) ms > \(configuration.maxLagP99)") }
        if statistics.errors > 0 { failures.append("\(statistics.errors) requests failed") }
        return failures
    }

    private func runClient(index: Int) async {
        var generator = SeededGenerator(seed: configuration.seed &+ UInt64(index) &* 7919)
        let started = ContinuousClock.now
        // Spread the clients over the interval so they do not all fire at once.
        var next = started + configuration.interval * (Double(index) / Double(configuration.clients))
        while next - started < configuration.duration {
            let now = ContinuousClock.now
            if next > now {
                try? await Task.sleep(until: next, clock: .continuous)
            } else if now - next > .milliseconds(10) {
                statistics.withLock { $0.lateStarts += 1 }
            }
            next += configuration.interval
            await readOnce(using: &generator)
        }
    }

    private func readOnce(using generator: inout SeededGenerator) async {
        let tag = TagPopularity.name(ofTag: 1 + Int(generator.next() % UInt64(configuration.topTags)))
        let shortest = configuration.shortestWindow.seconds, longest = configuration.longestWindow.seconds
        let window = Int64((shortest + generator.unit() * (longest - shortest)) * 1_000_000_000)
        let end = WallClock.nowNanoseconds()
        let request = HTTPClientRequest(url: "\(configuration.url)/api?tag=\(tag)&start=\(end - window)&end=\(end)&measured_at=true")
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 64 << 20)
            let micros = UInt64(max(1, (ContinuousClock.now - started).seconds * 1_000_000))
            let arrived = WallClock.nowNanoseconds()
            let newest = response.status.code == 200 ? Self.newestMeasurement(in: body) : nil
            statistics.withLock { stats in
                stats.statuses[Int(response.status.code), default: 0] += 1
                if response.status.code == 200 { _ = stats.latency.record(micros) }
                if let newest { _ = stats.lag.record(UInt64(max(1, (arrived - newest) / 1000))) }
            }
        } catch {
            statistics.withLock { $0.transportErrors += 1 }
        }
    }

    /// The largest `"measuredAt":N` in a response, found by scanning rather than decoding 1000 samples.
    static func newestMeasurement(in body: ByteBuffer) -> Int64? {
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
