import AsyncHTTPClient
import Foundation
import Histogram
import LoadGen
import NIOCore
import SluiceModel
import Synchronization

/// Latency of windows, and lag of newest points, as one target answered them.
struct ReadFigures: Sendable {
    var latency = LatencySummary.makeHistogram()
    /// How old the tag's newest point was when the answer naming it arrived.
    var lag = LatencySummary.makeHistogram()
    var statuses: [Int: Int] = [:]
    var transportErrors = 0
    /// Answered 200 without a single value: not counted in `latency`.
    var empty = 0
    var elapsed: Duration = .zero

    var requests: Int { statuses.values.reduce(0, +) + transportErrors }
    var errors: Int { requests - statuses[200, default: 0] + empty }
}

/// Reads windows of random top tags from one target: on seed 003's readers' `ReadSchedule`, or closed-loop (each
/// worker asks again as soon as it is answered) for the rate the target holds. On the schedule each
/// window is followed by a request for the tag's newest point, timed apart from it, for the lag.
final class PeerReads: Sendable {
    struct Windows: Sendable {
        var topTags: Int
        var shortest: Duration
        var longest: Duration
    }

    private let reader: PeerReader
    private let client: HTTPClient
    private let windows: Windows
    private let figures = Mutex(ReadFigures())

    init(reader: PeerReader, client: HTTPClient, windows: Windows) {
        self.reader = reader
        self.client = client
        self.windows = windows
    }

    func onSchedule(clients: Int, interval: Duration, duration: Duration, seed: UInt64) async -> ReadFigures {
        await measure { started in
            await withDiscardingTaskGroup { group in
                for index in 0..<clients {
                    group.addTask {
                        var generator = SeededGenerator(seed: seed &+ UInt64(index) &* 7919)
                        var schedule = ReadSchedule(started: started, interval: interval, duration: duration)
                        while let next = schedule.next(using: &generator) {
                            if next > ContinuousClock.now { try? await Task.sleep(until: next, clock: .continuous) }
                            let tag = await self.readWindow(using: &generator)
                            await self.recordLag(tag: tag)
                        }
                    }
                }
            }
        }
    }

    func closedLoop(workers: Int, duration: Duration, seed: UInt64) async -> ReadFigures {
        await measure { started in
            await withDiscardingTaskGroup { group in
                for index in 0..<workers {
                    group.addTask {
                        var generator = SeededGenerator(seed: seed &+ UInt64(index) &* 7919)
                        while ContinuousClock.now - started < duration { _ = await self.readWindow(using: &generator) }
                    }
                }
            }
        }
    }

    /// Asks for each top tag's longest window once, so the bridge answers the measured reads from its cache.
    func warmUp() async {
        await askEachTopTagOnce(topTags: windows.topTags, window: Int64(windows.longest.fractionalSeconds * 1e9), client: client) { tag, start, end in
            self.reader.window(tag: tag, start: start, end: end)
        }
    }

    private func measure(_ body: (ContinuousClock.Instant) async -> Void) async -> ReadFigures {
        let started = ContinuousClock.now
        await body(started)
        return figures.withLock {
            $0.elapsed = ContinuousClock.now - started
            return $0
        }
    }

    /// One window of a random top tag, timed; returns the tag.
    private func readWindow(using generator: inout SeededGenerator) async -> String {
        let tag = TagPopularity.name(ofTag: 1 + Int(generator.next() % UInt64(windows.topTags)))
        let shortest = windows.shortest.fractionalSeconds
        let length = Int64((shortest + generator.unit() * (windows.longest.fractionalSeconds - shortest)) * 1e9)
        let end = WallClock.nowNanoseconds()
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(reader.window(tag: tag, start: end - length, end: end), timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 64 << 20)
            let micros = UInt64(max(1, (ContinuousClock.now - started).fractionalSeconds * 1e6))
            let holdsValues = reader.holdsValues(body)
            figures.withLock { figures in
                figures.statuses[Int(response.status.code), default: 0] += 1
                guard response.status == .ok else { return }
                if holdsValues { _ = figures.latency.record(micros) } else { figures.empty += 1 }
            }
        } catch {
            figures.withLock { $0.transportErrors += 1 }
        }
        return tag
    }

    private func recordLag(tag: String) async {
        guard let request = reader.newest(tag: tag, now: WallClock.nowNanoseconds()),
            let response = try? await client.execute(request, timeout: .seconds(60)), response.status == .ok,
            let body = try? await response.body.collect(upTo: 1 << 20)
        else { return }
        let arrived = WallClock.nowNanoseconds()
        guard let newest = reader.newestTime(in: body) else { return }
        figures.withLock { _ = $0.lag.record(UInt64(max(1, (arrived - newest) / 1000))) }
    }
}
