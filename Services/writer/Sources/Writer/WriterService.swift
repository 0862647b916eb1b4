import Logging
import PostgresNIO
import ServiceLifecycle
import SluiceKafka
import SluiceModel
import SluiceRuntime
import Synchronization

/// Consumes measurements from Kafka and stores them in batches, exactly once.
///
/// The loop polls until a batch is full or its oldest record has waited `flushInterval`, stores it with its
/// offsets in one transaction, and never asks Kafka to remember anything. On a rebalance it first stores
/// what it holds, then resumes each newly assigned partition from the offset PostgreSQL holds. A lost
/// database is retried with backoff while the batch waits in memory (an attempt that hangs is abandoned
/// after `storeTimeout`: the transaction it was in never commits, so retrying it cannot duplicate rows); on shutdown the batch is stored
/// before the consumer leaves the group.
public final class WriterService: Service, Sendable {
    private let consumer: KafkaConsumer
    private let store: BatchStore
    private let configuration: WriterConfiguration
    private let logger: Logger
    private let metrics = WriterMetrics()
    private let stopRequested = Atomic<Bool>(false)
    private let state = Mutex(State())
    private let prepare: @Sendable () async throws -> Void
    private let changeFeed: ChangeFeed?

    struct State {
        /// Next offset known to be stored, per assigned partition: what consumer lag is measured against.
        var positions: [TopicPartition: Int64] = [:]
        var lastStoreFailure: String?
    }

    /// - Parameters:
    ///   - changeFeed: told, after each commit, which series changed and over which times.
    ///   - prepare: runs before the first poll; the writer uses it to migrate the schema.
    public init(
        consumer: KafkaConsumer,
        store: BatchStore,
        configuration: WriterConfiguration,
        logger: Logger,
        changeFeed: ChangeFeed? = nil,
        prepare: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.prepare = prepare
        self.changeFeed = changeFeed
        self.consumer = consumer
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    /// Nil while the writer can store; otherwise why not (reported by `GET /health`).
    public var unhealthyReason: String? { state.withLock { $0.lastStoreFailure } }

    public func run() async throws {
        try await prepare()
        try consumer.subscribe(to: [configuration.topic])
        logger.info("writer started", metadata: ["topic": "\(configuration.topic)", "group": "\(configuration.consumerGroup)"])
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await consumeUntilStopped()
            } onGracefulShutdown: {
                self.stopRequested.store(true, ordering: .relaxed)
            }
        } onCancel: {
            self.stopRequested.store(true, ordering: .relaxed)
        }
        await consumer.close()
        logger.info("writer stopped")
    }

    /// Asks `run()` to store what it holds and return; for owners that do not use a ServiceGroup.
    public func shutdown() {
        stopRequested.store(true, ordering: .relaxed)
    }

    private func consumeUntilStopped() async {
        var batch = PendingBatch()
        while !stopRequested.load(ordering: .relaxed) {
            let timeout: Duration = batch.startedAt.map { configuration.flushInterval - (ContinuousClock.now - $0) } ?? configuration.flushInterval
            let poll: ConsumerPoll
            do {
                poll = try await consumer.poll(maxRecords: configuration.batchSize - batch.count, timeout: max(timeout, .zero))
            } catch {
                logger.error("polling Kafka failed", metadata: ["error": "\(error)"])
                break
            }
            let now = ContinuousClock.now
            for record in poll.records { batch.add(record, now: now) }
            report(poll.errors)
            let due = batch.startedAt.map { now - $0 >= configuration.flushInterval } ?? false
            if batch.count >= configuration.batchSize || due || poll.rebalance != nil {
                guard await storeRetrying(&batch) else { break }
            }
            if let rebalance = poll.rebalance {
                guard await apply(rebalance) else { break }
            }
        }
        _ = await storeRetrying(&batch, evenWhenStopping: true)
    }

    /// Stores the batch, retrying with backoff until it succeeds or the writer is told to stop.
    /// - Returns: false when it gave up because of a stop; the batch then stays in Kafka, unacknowledged.
    private func storeRetrying(_ batch: inout PendingBatch, evenWhenStopping: Bool = false) async -> Bool {
        guard !batch.isEmpty else { return true }
        var backoff = Duration.milliseconds(100)
        var attempt = 1
        while true {
            let started = ContinuousClock.now
            do {
                let (store, measurements, nextOffsets, logger) = (self.store, batch.measurements, batch.nextOffsets, self.logger)
                let outcome = try await withAbandoningDeadline(configuration.storeTimeout) {
                    try await store.store(measurements, nextOffsets: nextOffsets, logger: logger)
                }
                metrics.storeDuration.recordNanoseconds((ContinuousClock.now - started).wholeNanoseconds)
                metrics.batches.increment()
                metrics.batchSize.record(batch.count)
                metrics.rowsWritten.increment(by: outcome.inserted)
                metrics.duplicateRows.increment(by: outcome.duplicates)
                state.withLock { state in
                    state.lastStoreFailure = nil
                    state.positions.merge(nextOffsets) { max($0, $1) }
                }
                updateLag()
                changeFeed?.publish(SeriesChange.summarising(measurements))
                // Counted once the offsets that skip them are stored, so a retried batch reports them once.
                for (partition, offset, reason) in batch.rejected {
                    metrics.rejectedRecords.increment()
                    logger.error("skipped an unreadable record", metadata: ["partition": "\(partition)", "offset": "\(offset)", "reason": "\(reason)"])
                }
                batch = PendingBatch()
                return true
            } catch {
                metrics.retries.increment()
                let reason = "storing a batch of \(batch.count) measurements failed (attempt \(attempt)): \(String(reflecting: error))"
                state.withLock { $0.lastStoreFailure = "cannot write to PostgreSQL" }
                logger.error("store failed; retrying", metadata: ["error": "\(reason)", "retry_in": "\(backoff)"])
                if stopRequested.load(ordering: .relaxed) && (!evenWhenStopping || attempt >= 5) {
                    logger.warning("stopping with a batch unstored; it will be read again from Kafka", metadata: ["measurements": "\(batch.count)"])
                    return false
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
                attempt += 1
            }
        }
    }

    /// Acts on a rebalance once the pending batch is stored.
    private func apply(_ rebalance: Rebalance) async -> Bool {
        switch rebalance {
        case .revoked(let partitions):
            logger.info("partitions revoked", metadata: ["partitions": "\(partitions.count)"])
            state.withLock { state in for partition in partitions { state.positions[partition] = nil } }
            metrics.assignedPartitions.record(0)
            do { try await consumer.unassign() } catch {
                logger.error("unassign failed", metadata: ["error": "\(error)"])
                return false
            }
        case .assigned(let partitions):
            var backoff = Duration.milliseconds(100)
            while !stopRequested.load(ordering: .relaxed) {
                do {
                    let stored = try await store.storedOffsets(for: partitions, logger: logger)
                    var starts: [TopicPartition: StartOffset] = [:]
                    for partition in partitions {
                        starts[partition] = stored[partition].map(StartOffset.offset) ?? .beginning
                    }
                    try await consumer.assign(starts)
                    state.withLock { state in state.positions.merge(stored) { $1 } }
                    metrics.assignedPartitions.record(partitions.count)
                    logger.info("partitions assigned", metadata: ["partitions": "\(partitions.count)", "resumed": "\(stored.count)"])
                    return true
                } catch {
                    logger.error("reading stored offsets failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(5))
                }
            }
            return false
        }
        return true
    }

    private func report(_ errors: [KafkaError]) {
        for error in errors {
            if error.isOffsetOutOfRange {
                metrics.offsetErrors.increment()
                logger.critical("a stored offset is outside what Kafka retains; messages may have been lost", metadata: ["error": "\(error)"])
            } else {
                logger.warning("Kafka reported an error", metadata: ["error": "\(error)"])
            }
        }
    }

    private func updateLag() {
        let positions = state.withLock { $0.positions }
        var lag: Int64 = 0
        for (partition, position) in positions {
            if let high = consumer.highWatermark(of: partition) { lag += max(0, high - position) }
        }
        metrics.consumerLag.record(lag)
    }
}
