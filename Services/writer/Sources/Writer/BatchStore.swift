import Logging
import NIOCore
import PostgresNIO
import SluiceKafka
import SluiceModel

/// Stores batches of measurements exactly once: rows and the Kafka offsets they cover commit together.
///
/// A batch is copied into a per-connection staging table, new series are created in one statement,
/// rows go into `measurements` with `on conflict do nothing` (the first write of a (series, ts) wins, so
/// redelivered batches add nothing), and the next offsets are stored in the same transaction.
public struct BatchStore: Sendable {
    public struct Outcome: Sendable, Equatable {
        /// Rows that were new.
        public var inserted: Int
        /// Rows already stored (redeliveries and client retries).
        public var duplicates: Int
        /// Per series of the batch, the span of times it held: what the change feed announces.
        public var changes: [SeriesChange]

        public init(inserted: Int, duplicates: Int, changes: [SeriesChange] = []) {
            self.inserted = inserted
            self.duplicates = duplicates
            self.changes = changes
        }
    }

    let client: PostgresClient
    let consumerGroup: String
    /// The open rollup minutes and tier ends of the series this writer holds (see `RollupWriter`).
    let rollups = RollupMemory()
    let seriesIDs = SeriesIDCache()
    /// Whether rollup tiers are folded (`SLUICE_ROLLUPS`); when not, only marked.
    let foldsRollups: Bool

    /// - Parameter foldsRollups: `SLUICE_ROLLUPS`.
    public init(client: PostgresClient, consumerGroup: String, foldsRollups: Bool = true) {
        self.client = client
        self.consumerGroup = consumerGroup
        self.foldsRollups = foldsRollups
    }

    /// Stores measurements and advances the stored offsets, atomically.
    /// - Parameters:
    ///   - measurements: in Kafka order; within one batch the first of a duplicate (series, ts) wins.
    ///   - nextOffsets: per partition, the offset to resume from once this batch is stored.
    ///   - rejected: records of the batch that are not measurements, kept whole in `writer_rejected_records`
    ///     in the same transaction, so each is kept exactly once and nothing read is ever just dropped.
    ///   - clusterID: the Kafka cluster the offsets belong to, kept beside them (nil when the broker does not say).
    ///   - onBackend: told the PostgreSQL backend running the transaction, first thing, so that an attempt
    ///     abandoned later can be ended on the server (`terminate(backend:)`).
    public func store(
        _ measurements: [Measurement], nextOffsets: [TopicPartition: Int64], rejected: [RejectedRecord] = [],
        clusterID: String? = nil, logger: Logger, onBackend: @Sendable (Int32) -> Void = { _ in }
    ) async throws -> Outcome {
        let (rollups, seriesIDs, consumerGroup, foldsRollups) = (self.rollups, self.seriesIDs, self.consumerGroup, self.foldsRollups)
        do {
            let (outcome, remembered, learned) = try await client.withTransaction(logger: logger) { [measurements] connection in
                try await Self.transaction(
                    measurements, nextOffsets: nextOffsets, rejected: rejected, clusterID: clusterID, consumerGroup: consumerGroup,
                    rollups: rollups, foldsRollups: foldsRollups, seriesIDs: seriesIDs, connection: connection, logger: logger, onBackend: onBackend
                )
            }
            if let remembered { rollups.giveBack(remembered) }
            seriesIDs.remember(learned)
            return outcome
        } catch {
            // The transaction may or may not have committed: what was remembered may be wrong either way
            // (the series ids it read are not remembered at all).
            rollups.forget()
            throw error
        }
    }

    /// Forgets what was remembered about rollups: another writer may store these series now, or a store
    /// was abandoned without knowing whether it committed.
    public func forgetRollups() {
        rollups.forget()
    }

    private static func transaction(
        _ measurements: [Measurement], nextOffsets: [TopicPartition: Int64], rejected: [RejectedRecord], clusterID: String?,
        consumerGroup: String, rollups: RollupMemory, foldsRollups: Bool, seriesIDs: SeriesIDCache, connection: PostgresConnection,
        logger: Logger, onBackend: @Sendable (Int32) -> Void
    ) async throws -> (Outcome, RollupMemory.Taken?, learned: [SeriesKey: Int64]) {
        var remembered: RollupMemory.Taken?
        var learned: [SeriesKey: Int64] = [:]
        let batch = BatchSeries(measurements)
        for try await pid in try await connection.query("select pg_backend_pid()", logger: logger).decode(Int32.self) { onBackend(pid) }
        try await connection.query(
            """
            create temp table if not exists writer_staging (
                seq int not null, domain text not null, tag text not null, ts bigint not null, vals float8[] not null
            ) on commit delete rows
            """,
            logger: logger
        )
        var inserted = 0
        if !measurements.isEmpty {
            try await StagingRows.insert(measurements, on: connection, logger: logger)
            let (known, unknown) = seriesIDs.lookUp(batch.points.keys)
            // Labelled series this batch may create, taken apart here (usually none: a plain tag is its own
            // name, and a series the writer has stored before has its row).
            let labelled = LabelledSeries(unknown)
            let createdRows = try await connection.query(
                """
                insert into series (domain, tag, name, labels)
                select distinct s.domain, s.tag, coalesce(l.name, s.tag), coalesce(l.labels::jsonb, '{}'::jsonb)
                from writer_staging s
                left join unnest(\(labelled.domains)::text[], \(labelled.tags)::text[], \(labelled.names)::text[], \(labelled.labels)::text[])
                    as l(domain, tag, name, labels) on l.domain = s.domain and l.tag = s.tag
                where not exists (select 1 from series e where e.domain = s.domain and e.tag = s.tag)
                on conflict (domain, tag) do nothing
                returning id
                """,
                logger: logger
            )
            // Series this batch created: no row of theirs was stored before, so their rollups start here.
            var created: Set<Int64> = []
            for try await id in createdRows.decode(Int64.self) { created.insert(id) }
            let rows = try await connection.query(
                """
                with added as (
                    insert into measurements (series_id, ts, vals)
                    select e.id, s.ts, s.vals from writer_staging s join series e on e.domain = s.domain and e.tag = s.tag
                    order by s.seq
                    on conflict (series_id, ts) do nothing
                    returning 1
                ) select count(*) from added
                """,
                logger: logger
            )
            for try await count in rows.decode(Int.self) { inserted = count }
            // The rollup tiers, in the same transaction as the rows they summarise.
            learned = try await seriesIDs.read(unknown, connection: connection, logger: logger)
            let ids = known.merging(learned) { _, read in read }
            var added: [Int64: [RollupWriter.Point]] = [:]
            for (key, series) in batch.points { if let id = ids[key] { added[id] = series } }
            var taken = rollups.take()
            try await RollupWriter(connection: connection, logger: logger, folds: foldsRollups)
                .update(added: added, created: created, remembered: &taken.table)
            remembered = taken
        }
        if !rejected.isEmpty {
            try await connection.query(
                """
                insert into writer_rejected_records (consumer_group, topic, partition, record_offset, record_key, record_value, reason)
                select \(consumerGroup), t, p, o, k, v, r
                from unnest(\(rejected.map(\.partition.topic))::text[], \(rejected.map(\.partition.partition))::int[],
                            \(rejected.map(\.offset))::bigint[], \(rejected.map { ByteBuffer(bytes: $0.key) })::bytea[],
                            \(rejected.map { ByteBuffer(bytes: $0.value) })::bytea[], \(rejected.map(\.reason))::text[]) as u(t, p, o, k, v, r)
                """,
                logger: logger
            )
        }
        let partitions = nextOffsets.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        if !partitions.isEmpty {
            let topics = partitions.map(\.topic)
            let numbers = partitions.map(\.partition)
            let offsets = partitions.map { nextOffsets[$0] ?? 0 }
            try await connection.query(
                """
                insert into writer_offsets (consumer_group, topic, partition, next_offset, cluster_id)
                select \(consumerGroup), t, p, o, \(clusterID) from unnest(\(topics)::text[], \(numbers)::int[], \(offsets)::bigint[]) as u(t, p, o)
                on conflict (consumer_group, topic, partition) do update
                set next_offset = greatest(writer_offsets.next_offset, excluded.next_offset),
                    cluster_id = coalesce(excluded.cluster_id, writer_offsets.cluster_id), updated_at = now()
                """,
                logger: logger
            )
        }
        return (Outcome(inserted: inserted, duplicates: measurements.count - inserted, changes: batch.changes), remembered, learned)
    }

    /// Ends a backend and rolls back its open transaction, from another connection.
    /// - Returns: false when the backend had already ended.
    public func terminate(backend pid: Int32, logger: Logger) async throws -> Bool {
        var ended = false
        for try await result in try await client.query("select pg_terminate_backend(\(pid))", logger: logger).decode(Bool.self) { ended = result }
        return ended
    }

    /// Where a partition resumes, and on which Kafka cluster that offset was stored.
    public struct StoredOffset: Sendable, Equatable {
        public var offset: Int64
        /// Nil for offsets stored before the cluster was recorded, or by a broker that does not name itself.
        public var clusterID: String?

        public init(offset: Int64, clusterID: String? = nil) {
            self.offset = offset
            self.clusterID = clusterID
        }
    }

    /// The stored resume points for these partitions; a partition never stored before has none.
    public func storedOffsets(for partitions: [TopicPartition], logger: Logger) async throws -> [TopicPartition: StoredOffset] {
        let topics = partitions.map(\.topic)
        let numbers = partitions.map(\.partition)
        let rows = try await client.query(
            """
            select o.topic, o.partition, o.next_offset, o.cluster_id from writer_offsets o
            join unnest(\(topics)::text[], \(numbers)::int[]) as u(t, p) on o.topic = u.t and o.partition = u.p
            where o.consumer_group = \(consumerGroup)
            """,
            logger: logger
        )
        var offsets: [TopicPartition: StoredOffset] = [:]
        for try await (topic, partition, offset, clusterID) in rows.decode((String, Int32, Int64, String?).self) {
            offsets[TopicPartition(topic: topic, partition: partition)] = StoredOffset(offset: offset, clusterID: clusterID)
        }
        return offsets
    }
}
