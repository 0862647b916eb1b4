import AsyncHTTPClient
import Foundation
import NIOCore
import SluiceModel
import Synchronization

/// An open-loop producer: it offers messages at the schedule's rate whatever the responses take, up to
/// `concurrency` requests in flight, and reports when it cannot keep up rather than slowing down quietly.
public final class ProducerRun: Sendable {
    private let configuration: ProducerConfiguration
    private let client: HTTPClient
    private let statistics = Mutex(ProducerStatistics())
    private let inFlight = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let print: @Sendable (String) -> Void

    public init(configuration: ProducerConfiguration, client: HTTPClient = .shared, print: @escaping @Sendable (String) -> Void = { Swift.print($0) }) {
        self.configuration = configuration
        self.client = client
        self.print = print
    }

    /// Ends the offering early (on SIGTERM or SIGINT): `run()` then waits for the requests in flight and
    /// returns, so the ledger holds every message acknowledged and a script can end a load when it is done.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    /// Runs for the configured duration or until `stop()`, then waits for requests still in flight.
    public func run() async -> ProducerStatistics {
        var source = MessageSource(tags: configuration.tags, valuesPerMessage: configuration.valuesPerMessage, seed: configuration.seed)
        let started = ContinuousClock.now
        let tick = Duration.milliseconds(5)
        var nextProgress = started + configuration.progressInterval
        var lastProgress = (at: started, offered: 0, accepted: 0)
        await withDiscardingTaskGroup { group in
            var generated = 0
            while ContinuousClock.now - started < configuration.duration, !stopped.load(ordering: .relaxed) {
                let elapsed = ContinuousClock.now - started
                let due = configuration.schedule.messagesDue(after: elapsed)
                statistics.withLock { $0.due = due }
                while due - generated >= configuration.batchSize || (due > generated && elapsed + tick >= configuration.duration) {
                    guard inFlight.load(ordering: .relaxed) < configuration.concurrency else { break }
                    let count = min(configuration.batchSize, due - generated)
                    let messages = (0..<count).map { _ in source.next() }
                    generated += count
                    inFlight.add(1, ordering: .relaxed)
                    statistics.withLock { $0.offered += count }
                    group.addTask { await self.send(messages) }
                }
                // When every request slot is busy the loop leaves the rest for later: the shortfall shows as due − offered.
                let now = ContinuousClock.now
                if now >= nextProgress {
                    let snapshot = statistics.withLock { ($0.due, $0.offered, $0.accepted, $0.retries, $0.rejected, $0.failed) }
                    let seconds = (now - lastProgress.at).fractionalSeconds
                    print(
                        "[producer] \(Int((now - started).fractionalSeconds))s target \(Int(configuration.schedule.rate(at: now - started))) msg/s"
                            + "  offered \(Int(Double(snapshot.1 - lastProgress.offered) / seconds)) msg/s"
                            + "  accepted \(Int(Double(snapshot.2 - lastProgress.accepted) / seconds)) msg/s"
                            + "  behind \(snapshot.0 - snapshot.1)  in flight \(inFlight.load(ordering: .relaxed))"
                            + "  retries \(snapshot.3)  rejected \(snapshot.4)  failed \(snapshot.5)"
                    )
                    lastProgress = (now, snapshot.1, snapshot.2)
                    nextProgress = now + configuration.progressInterval
                }
                try? await Task.sleep(for: tick)
            }
        }
        return statistics.withLock { $0 }
    }

    private func send(_ messages: [MessageSource.Message]) async {
        defer { inFlight.subtract(1, ordering: .relaxed) }
        let body = Self.body(for: messages, format: configuration.batchSize == 1 ? nil : configuration.format)
        for attempt in 1...configuration.maxAttempts {
            // Made (and signed) anew for each attempt.
            var request = RequestAuthorization.request(
                method: .POST, baseURL: configuration.url, path: "/save", body: body, authorization: configuration.authorization)
            request.headers.add(
                name: "Content-Type", value: configuration.format == .ndjson && configuration.batchSize > 1 ? "application/x-ndjson" : "application/json")
            let started = ContinuousClock.now
            do {
                let response = try await client.execute(request, timeout: .seconds(30))
                _ = try await response.body.collect(upTo: 1 << 20)
                let micros = UInt64(max(1, (ContinuousClock.now - started).fractionalSeconds * 1_000_000))
                let status = Int(response.status.code)
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(Double.init) ?? 1
                let settled = statistics.withLock { stats -> Bool in
                    stats.statuses[status, default: 0] += 1
                    _ = stats.requestLatency.record(micros)
                    switch status {
                    case 202:
                        stats.accepted += messages.count
                        for message in messages { stats.ledger.record(tag: message.tag, time: message.time) }
                        return true
                    case 503:
                        if attempt < configuration.maxAttempts { stats.retries += 1 }
                        return false
                    default:
                        stats.rejected += messages.count
                        return true
                    }
                }
                if settled { return }
                try? await Task.sleep(for: .milliseconds(Int64(retryAfter * 1000)))
            } catch {
                // The request may or may not have reached Kafka; resending the same messages with the same
                // timestamps is safe, since the first write of a (series, time) wins.
                statistics.withLock { if attempt < configuration.maxAttempts { $0.retries += 1 } }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        statistics.withLock { $0.failed += messages.count }
    }

    /// A request's body: one message alone (format nil), a JSON array, or NDJSON.
    public static func body(for messages: [MessageSource.Message], format: ProducerConfiguration.Format?) -> ByteBuffer {
        switch format {
        case nil:
            return ByteBuffer(string: messages[0].json)
        case .array:
            return ByteBuffer(string: "[" + messages.map(\.json).joined(separator: ",") + "]")
        case .ndjson:
            return ByteBuffer(string: messages.map(\.json).joined(separator: "\n") + "\n")
        }
    }
}
