import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import SluiceKafka
import Synchronization

/// Keeps ingest's view of the writer's backlog fresh, so `/save` can refuse before Kafka would have to
/// drop acknowledged messages.
///
/// Every `interval` it reads the topic's watermarks from the broker and the offsets the writer stored in
/// PostgreSQL (the same rows the writer commits with its data, so they are exact). When PostgreSQL cannot
/// be read, the last offsets read stand: the backlog can then only be overstated, never understated.
final class BacklogMonitor: Service, Sendable {
    private let producer: KafkaProducer
    private let postgres: PostgresClient
    private let configuration: IngestConfiguration
    private let logger: Logger
    private let state = Mutex(State())
    private let backlogGauge = Gauge(label: "sluice_ingest_writer_backlog_messages")

    private struct State {
        var backlog = Backlog(partition: 0, messages: 0, storedOffsetsKnown: false)
        var stored: [Int32: Int64]?
        var partitions: [Int32] = []
        var partitionsReadAt: ContinuousClock.Instant?
        var warnedAt: ContinuousClock.Instant?
    }

    init(producer: KafkaProducer, postgres: PostgresClient, configuration: IngestConfiguration, logger: Logger) {
        self.producer = producer
        self.postgres = postgres
        self.configuration = configuration
        self.logger = logger
    }

    /// The backlog as last measured.
    var backlog: Backlog { state.withLock { $0.backlog } }

    /// Whether new messages must be refused now, and why; nil when they may be taken.
    var refusal: Backlog? {
        guard configuration.maxPartitionBacklog > 0 else { return nil }
        let backlog = self.backlog
        return backlog.messages > configuration.maxPartitionBacklog ? backlog : nil
    }

    func run() async throws {
        guard configuration.maxPartitionBacklog > 0 else {
            try? await gracefulShutdown()  // nothing to measure; a service that returned would stop the group
            return
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await refresh()
            try? await Task.sleep(for: configuration.backlogCheckInterval)
        }
    }

    /// One measurement; failures keep the previous figures and are logged at most every 30 s.
    func refresh() async {
        do {
            let partitions = try await knownPartitions()
            let watermarks = try await producer.watermarks(of: configuration.topic, partitions: partitions)
            var stored = state.withLock { $0.stored }
            do {
                stored = try await readStoredOffsets()
            } catch {
                warn("reading the writer's stored offsets failed; keeping the last ones read", error)
            }
            let backlog = Backlog.largest(watermarks: watermarks, stored: stored)
            state.withLock { state in
                state.stored = stored
                state.backlog = backlog
            }
            backlogGauge.record(backlog.messages)
        } catch {
            warn("reading the topic's offsets from Kafka failed; keeping the last backlog measured", error)
        }
    }

    /// The topic's partitions, read again every minute in case partitions were added.
    private func knownPartitions() async throws -> [Int32] {
        let (cached, readAt) = state.withLock { ($0.partitions, $0.partitionsReadAt) }
        if let readAt, ContinuousClock.now - readAt < .seconds(60), !cached.isEmpty { return cached }
        let partitions = try await producer.partitionIDs(of: configuration.topic)
        state.withLock { state in
            state.partitions = partitions
            state.partitionsReadAt = .now
        }
        return partitions
    }

    private func readStoredOffsets() async throws -> [Int32: Int64] {
        let rows = try await postgres.query(
            """
            select partition, next_offset from writer_offsets
            where consumer_group = \(configuration.writerGroup) and topic = \(configuration.topic)
            """,
            logger: logger
        )
        var stored: [Int32: Int64] = [:]
        for try await (partition, offset) in rows.decode((Int32, Int64).self) { stored[partition] = offset }
        return stored
    }

    private func warn(_ message: String, _ error: any Error) {
        let now = ContinuousClock.now
        let due = state.withLock { state in
            guard state.warnedAt.map({ now - $0 >= .seconds(30) }) ?? true else { return false }
            state.warnedAt = now
            return true
        }
        if due { logger.warning("\(message)", metadata: ["error": "\(String(reflecting: error))"]) }
    }
}
