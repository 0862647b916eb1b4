import Logging
import PostgresNIO
import SluiceKafka

/// A move of a partition's stored position to somewhere the writer has not read up to: Kafka no longer
/// holds the stored offset, or the offset belongs to another cluster or an earlier life of the topic.
public struct Reposition: Sendable, Equatable {
    public var partition: TopicPartition
    /// The stored position this replaces; nil when none was stored.
    public var storedOffset: Int64?
    public var resumedOffset: Int64
    /// Messages between the two that Kafka dropped before they were stored; nil when no one can tell.
    public var lostMessages: Int64?
    /// For the operator: what happened, in words.
    public var reason: String

    public init(partition: TopicPartition, storedOffset: Int64?, resumedOffset: Int64, lostMessages: Int64?, reason: String) {
        self.partition = partition
        self.storedOffset = storedOffset
        self.resumedOffset = resumedOffset
        self.lostMessages = lostMessages
        self.reason = reason
    }
}

extension BatchStore {
    /// Stores the new position and a `writer_data_loss` row saying why, in one statement, so the record
    /// exists exactly when the move happened.
    /// - Returns: false when the stored position was no longer `storedOffset` (another writer moved it
    ///   first); nothing is changed then.
    public func reposition(_ move: Reposition, clusterID: String?, logger: Logger) async throws -> Bool {
        let rows = try await client.query(
            """
            with moved as (
                insert into writer_offsets as o (consumer_group, topic, partition, next_offset, cluster_id)
                values (\(consumerGroup), \(move.partition.topic), \(move.partition.partition), \(move.resumedOffset), \(clusterID))
                on conflict (consumer_group, topic, partition) do update
                set next_offset = excluded.next_offset, cluster_id = excluded.cluster_id, updated_at = now()
                where o.next_offset = \(move.storedOffset)
                returning 1
            )
            insert into writer_data_loss (consumer_group, topic, partition, stored_offset, resumed_offset, lost_messages, reason)
            select \(consumerGroup), \(move.partition.topic), \(move.partition.partition), \(move.storedOffset), \(move.resumedOffset),
                   \(move.lostMessages), \(move.reason)
            from moved
            returning 1
            """,
            logger: logger
        )
        var recorded = false
        for try await _ in rows { recorded = true }
        return recorded
    }
}
