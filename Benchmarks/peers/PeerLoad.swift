import AsyncHTTPClient
import Foundation
import Histogram
import LoadGen
import NIOCore
import SluiceModel
import Synchronization

/// What the writers saw: how long each batch took to be acknowledged, and the answers.
struct LoadFigures: Sendable {
    var acknowledgement = LatencySummary.makeHistogram()
    var statuses: [Int: Int] = [:]
    var transportErrors = 0
    var messagesAccepted = 0
    /// Batches sent more than 10 ms after their turn because `inFlight` requests were still unanswered.
    var lateBatches = 0
    var elapsed: Duration = .zero

    var requests: Int { statuses.values.reduce(0, +) + transportErrors }
}

/// Seed 003's producers at a fixed rate, open loop: batch k is due at k·batch/rate seconds whatever the
/// answers to earlier ones; messages are stamped when their batch is made, just before it is sent. A
/// refused batch is not retried (the figure is the acknowledgement of accepted ones).
final class PeerLoad: Sendable {
    private let system: PeerSystem
    private let baseURL: String
    private let client: HTTPClient
    private let figures = Mutex(LoadFigures())

    init(system: PeerSystem, baseURL: String, client: HTTPClient) {
        self.system = system
        self.baseURL = baseURL
        self.client = client
    }

    func run(rate: Int, batch: Int, duration: Duration, tags: Int, inFlight: Int, seed: UInt64) async -> LoadFigures {
        var source = MessageSource(tags: tags, valuesPerMessage: 10, seed: seed)
        var encoder = PeerEncoder(system: system)
        let spacing = Duration.seconds(Double(batch) / Double(rate))
        let started = ContinuousClock.now
        await withDiscardingTaskGroup { group in
            var due = started
            var sending = 0
            let (answers, answered) = AsyncStream<Void>.makeStream()
            var nextAnswer = answers.makeAsyncIterator()
            while due - started < duration {
                try? await Task.sleep(until: due, clock: .continuous)
                while sending >= inFlight {
                    _ = await nextAnswer.next()
                    sending -= 1
                }
                if ContinuousClock.now - due > .milliseconds(10) { figures.withLock { $0.lateBatches += 1 } }
                let write = encoder.encode((0..<batch).map { _ in source.next() })
                sending += 1
                group.addTask {
                    await self.send(write, messages: batch)
                    answered.yield()
                }
                due += spacing
            }
        }
        return figures.withLock {
            $0.elapsed = ContinuousClock.now - started
            return $0
        }
    }

    private func send(_ write: PeerWrite, messages: Int) async {
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(write.request(to: baseURL), timeout: .seconds(60))
            _ = try await response.body.collect(upTo: 1 << 20)
            let micros = UInt64(max(1, (ContinuousClock.now - started).fractionalSeconds * 1e6))
            let accepted = (200..<300).contains(Int(response.status.code))
            figures.withLock { figures in
                figures.statuses[Int(response.status.code), default: 0] += 1
                if accepted {
                    _ = figures.acknowledgement.record(micros)
                    figures.messagesAccepted += messages
                }
            }
        } catch {
            figures.withLock { $0.transportErrors += 1 }
        }
    }
}
