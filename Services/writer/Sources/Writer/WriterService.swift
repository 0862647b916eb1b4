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
/// database is retried with backoff while the batch waits in memory. An attempt still running after
/// `storeTimeout` is abandoned and its PostgreSQL backend terminated before the retry, so its transaction
/// rolls back and its connection is not held (should it commit in the instant before, the retry adds
/// nothing: the first write of a (series, time) wins and stored offsets never move back). On shutdown the
/// batch is stored before the consumer leaves the group. When Kafka no longer holds a stored
/// position, the writer records the loss and resumes where Kafka's data starts (`WriterService+Recovery`).
public final class WriterService: Service, Sendable {
    let consumer: KafkaConsumer
    let store: BatchStore
    /// Checked as records are read, so a too-old one is kept whole (see `PendingBatch.expired`).
    let rawRetention: RawRetentionWindow
    let configuration: WriterConfiguration
    let logger: Logger
    let metrics = WriterMetrics()
    let stopRequested = Atomic<Bool>(false)
    let state = Mutex(State())
    private let prepare: @Sendable () async throws -> Void
    private let changeFeed: ChangeFeed?

    struct State {
        /// The partitions the group gave this writer.
        var assigned: [TopicPartition] = []
        /// Next offset known to be stored, per assigned partition: what consumer lag is measured against,
        /// and where a partition resumes when it is assigned again.
        var positions: [TopicPartition: Int64] = [:]
        /// The Kafka cluster's id once known; stored beside every offset.
        var clusterID: String?
        var lastStoreFailure: String?
        /// The last data loss or reset found, reported by `/health` until `alertUntil`.
        var lossAlert: String?
        var alertUntil: ContinuousClock.Instant?
    }

    /// - Parameters:
    ///   - changeFeed: told, after each commit, which series changed and over which times.
    ///   - rawRetention: measurements older than it are kept as rejected, not stored; by default none is.
    ///   - prepare: runs before the first poll; the writer's build waits there until its HTTP server's
    ///     start-up has migrated the schema.
    public init(
        consumer: KafkaConsumer,
        store: BatchStore,
        configuration: WriterConfiguration,
        logger: Logger,
        changeFeed: ChangeFeed? = nil,
        rawRetention: RawRetentionWindow = RawRetentionWindow(period: nil),
        prepare: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.prepare = prepare
        self.rawRetention = rawRetention
        self.changeFeed = changeFeed
        self.consumer = consumer
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    /// Nil while the writer stores everything it reads; otherwise why not (reported by `GET /health`): the
    /// database fails, or Kafka lost data the writer had not stored yet (for `dataLossAlert` after it).
    public var unhealthyReason: String? {
        state.withLock { state in
            if let failure = state.lastStoreFailure { return failure }
            if let alert = state.lossAlert, let until = state.alertUntil, ContinuousClock.now < until { return alert }
            return nil
        }
    }

    public func run() async throws {
        try await prepare()
        guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return }  // stopped before it was ready
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

    /// How long a poll waits while nothing is pending: bounds how late a stop is noticed when idle.
    private static let idlePoll = Duration.milliseconds(100)

    private func consumeUntilStopped() async {
        var batch = PendingBatch()
        while !stopRequested.load(ordering: .relaxed) {
            // An empty batch waits for its first record however short the flush interval (a poll returns as
            // soon as records come); a started one waits out what is left of the interval.
            let timeout: Duration =
                batch.startedAt.map { configuration.flushInterval - (ContinuousClock.now - $0) } ?? max(configuration.flushInterval, Self.idlePoll)
            let poll: ConsumerPoll
            do {
                poll = try await consumer.poll(maxRecords: configuration.batchSize - batch.count, timeout: max(timeout, .zero))
            } catch {
                logger.error("polling Kafka failed", metadata: ["error": "\(error)"])
                break
            }
            let now = ContinuousClock.now
            let rawFloor = rawRetention.floor(now: WallClock.nowNanoseconds())
            for record in poll.records { batch.add(record, now: now, rawFloor: rawFloor) }
            report(poll.errors)
            let due = batch.startedAt.map { now - $0 >= configuration.flushInterval } ?? false
            if batch.count >= configuration.batchSize || due || poll.rebalance != nil || !poll.outOfRange.isEmpty {
                guard await storeRetrying(&batch) else { break }
            }
            if !poll.outOfRange.isEmpty {
                guard await recover(from: poll.outOfRange) else { break }
            }
            if let rebalance = poll.rebalance {
                guard await apply(rebalance) else { break }
            }
        }
        _ = await storeRetrying(&batch, evenWhenStopping: true)
    }

    /// Stores the batch, retrying with backoff until it succeeds or the writer is told to stop.
    /// - Returns: false when it gave up because of a stop; the batch then stays in Kafka, unacknowledged.
    func storeRetrying(_ batch: inout PendingBatch, evenWhenStopping: Bool = false) async -> Bool {
        guard !batch.isEmpty else { return true }
        var backoff = Duration.milliseconds(100)
        var attempt = 1
        while true {
            let started = ContinuousClock.now
            do {
                let (store, measurements, nextOffsets, rejected, logger) = (
                    self.store, batch.measurements, batch.nextOffsets, batch.rejected + batch.expired, self.logger
                )
                let clusterID = state.withLock { $0.clusterID }
                let backend = Mutex<Int32?>(nil)
                let outcome: BatchStore.Outcome
                do {
                    outcome = try await withAbandoningDeadline(configuration.storeTimeout) {
                        try await store.store(
                            measurements, nextOffsets: nextOffsets, rejected: rejected, clusterID: clusterID, logger: logger,
                            onBackend: { pid in backend.withLock { $0 = pid } }
                        )
                    }
                } catch let error as DeadlineExceeded {
                    await abandon(backend: backend.withLock { $0 })
                    throw error
                }
                metrics.storeDuration.recordNanoseconds((ContinuousClock.now - started).wholeNanoseconds)
                metrics.batches.increment()
                metrics.batchSize.record(batch.count)
                metrics.rowsWritten.increment(by: outcome.inserted)
                metrics.duplicateRows.increment(by: outcome.duplicates)
                if !batch.expired.isEmpty {
                    PartitionMetrics.expiredPoints.increment(by: batch.expired.count)
                    logger.warning(
                        "measurements older than raw retention were not stored; kept in writer_rejected_records",
                        metadata: ["count": "\(batch.expired.count)", "reason": "\(batch.expired[0].reason)"]
                    )
                }
                state.withLock { state in
                    state.lastStoreFailure = nil
                    state.positions.merge(nextOffsets) { max($0, $1) }
                }
                updateLag()
                changeFeed?.publish(outcome.changes)
                // Counted once the offsets that skip them are stored, so a retried batch reports them once.
                for record in batch.rejected {
                    metrics.rejectedRecords.increment()
                    logger.error(
                        "kept an unreadable record in writer_rejected_records",
                        metadata: [
                            "partition": "\(record.partition)", "offset": "\(record.offset)", "reason": "\(record.reason)",
                        ])
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

    /// Ends an abandoned store attempt on the server: its transaction rolls back, its connection closes.
    private func abandon(backend pid: Int32?) async {
        metrics.abandonedStores.increment()
        // Whether it committed is unknown, and it may still give back what it remembered: drop both.
        store.forgetRollups()
        guard let pid else { return }
        do {
            // Bounded too: when PostgreSQL's connections were cut, leasing one for the terminate can hang
            // like the store did, and the writer would then never retry.
            let (store, logger) = (self.store, self.logger)
            let ended = try await withAbandoningDeadline(configuration.storeTimeout) { try await store.terminate(backend: pid, logger: logger) }
            logger.warning("abandoned a store attempt that outlasted its deadline", metadata: ["backend": "\(pid)", "terminated": "\(ended)"])
        } catch {
            logger.error("could not terminate an abandoned store attempt", metadata: ["backend": "\(pid)", "error": "\(String(reflecting: error))"])
        }
    }

    /// Acts on a rebalance once the pending batch is stored.
    private func apply(_ rebalance: Rebalance) async -> Bool {
        // Another writer may store these partitions' series from now on.
        store.forgetRollups()
        switch rebalance {
        case .revoked(let partitions):
            logger.info("partitions revoked", metadata: ["partitions": "\(partitions.count)"])
            state.withLock { state in
                for partition in partitions { state.positions[partition] = nil }
                state.assigned.removeAll { partitions.contains($0) }
            }
            metrics.assignedPartitions.record(0)
            do { try await consumer.unassign() } catch {
                logger.error("unassign failed", metadata: ["error": "\(error)"])
                return false
            }
            return true
        case .assigned(let partitions):
            return await retryingUntilStopped("resuming assigned partitions") {
                let resumed = try await self.resumePoints(for: partitions)
                try await self.consumer.assign(
                    resumed.mapValues(StartOffset.offset).merging(
                        partitions.filter { resumed[$0] == nil }.map { ($0, StartOffset.beginning) }
                    ) { stored, _ in stored })
                self.state.withLock { state in
                    state.assigned = partitions
                    state.positions.merge(resumed) { $1 }
                }
                self.metrics.assignedPartitions.record(partitions.count)
                self.logger.info("partitions assigned", metadata: ["partitions": "\(partitions.count)", "resumed": "\(resumed.count)"])
            }
        }
    }

    /// Runs `work` until it succeeds, with backoff; false when the writer was told to stop first.
    func retryingUntilStopped(_ what: String, _ work: () async throws -> Void) async -> Bool {
        var backoff = Duration.milliseconds(100)
        while !stopRequested.load(ordering: .relaxed) {
            do {
                try await work()
                return true
            } catch {
                logger.error("\(what) failed; retrying", metadata: ["error": "\(String(reflecting: error))", "retry_in": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
        return false
    }

    private func report(_ errors: [KafkaError]) {
        for error in errors {
            if error.isOffsetOutOfRange {
                // Out of range without a partition to recover: rare, and never to be quiet.
                metrics.offsetErrors.increment()
                raiseLossAlert("Kafka reported an offset out of range without naming the partition; data may be lost (\(error))")
                logger.critical("Kafka reported an offset out of range without naming the partition", metadata: ["error": "\(error)"])
            } else {
                logger.warning("Kafka reported an error", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Makes `/health` report `reason` for `dataLossAlert`.
    func raiseLossAlert(_ reason: String) {
        state.withLock { state in
            state.lossAlert = reason
            state.alertUntil = ContinuousClock.now + configuration.dataLossAlert
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
