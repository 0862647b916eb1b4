import SluiceKafka

/// How far the writer is behind Kafka, per partition: the messages Kafka holds that are not stored yet.
///
/// Ingest refuses new messages while any partition's backlog is over its limit, so that the writer never
/// falls further behind than the broker keeps: past that, acknowledged messages would be dropped by
/// retention before they are stored.
struct Backlog: Sendable, Equatable {
    /// The partition furthest behind, and by how many messages.
    var partition: Int32
    var messages: Int64
    /// False while ingest has never read the writer's stored offsets; partitions then count from the
    /// earliest offset Kafka holds, the most the writer could still have to read.
    var storedOffsetsKnown: Bool

    /// The largest backlog of any partition.
    /// - Parameters:
    ///   - watermarks: what Kafka holds, per partition.
    ///   - stored: the writer's next offset per partition; a partition it never stored starts at `low`. A
    ///     stored offset below `low` means data is already lost: the backlog counts from it, so ingest keeps
    ///     refusing until the writer has recorded the loss and moved on.
    static func largest(watermarks: [Int32: Watermarks], stored: [Int32: Int64]?) -> Backlog {
        var worst = Backlog(partition: 0, messages: 0, storedOffsetsKnown: stored != nil)
        for (partition, held) in watermarks {
            let position = stored?[partition] ?? held.low
            let behind = max(0, held.high - position)
            if behind > worst.messages || (behind == worst.messages && partition < worst.partition) {
                worst.partition = partition
                worst.messages = behind
            }
        }
        return worst
    }
}
