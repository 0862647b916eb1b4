import Logging
import SluiceKafka

/// What the writer does when a stored position is no longer in Kafka (the documented policy, README
/// "When Kafka loses data"): it never stalls and never skips silently. It records the move in
/// `writer_data_loss` in the same statement that stores the new position, counts the lost messages,
/// logs at critical level, reports unhealthy for `dataLossAlert`, and resumes at the earliest offset
/// Kafka still holds.
extension WriterService {
    /// Where each assigned partition resumes: its stored offset, unless that offset was stored for another
    /// Kafka cluster, in which case the partition starts over at the earliest offset held (recorded as a
    /// reset). Partitions never stored are absent: they start at the beginning.
    func resumePoints(for partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        let stored = try await store.storedOffsets(for: partitions, logger: logger)
        let cluster = try await knownClusterID()
        var resume = stored.mapValues(\.offset)
        let foreign = stored.filter { _, offset in
            guard let cluster, let storedCluster = offset.clusterID else { return false }
            return storedCluster != cluster
        }
        guard !foreign.isEmpty else { return resume }
        let marks = try await consumer.watermarks(of: Array(foreign.keys))
        for (partition, offset) in foreign {
            guard let held = marks[partition] else { throw MissingWatermarks(partition: partition) }
            let move = Reposition(
                partition: partition, storedOffset: offset.offset, resumedOffset: held.low, lostMessages: nil,
                reason: "offset \(offset.offset) of \(partition) was stored for Kafka cluster \(offset.clusterID ?? "?"), "
                    + "but this is cluster \(cluster ?? "?"); starting over at offset \(held.low), the earliest it holds"
            )
            resume[partition] = try await apply(move)
        }
        return resume
    }

    /// Repositions partitions Kafka stopped reading because their position is gone, then assigns every
    /// partition again so that reading resumes. The pending batch must be stored first.
    /// - Returns: false when the writer was told to stop before it could.
    func recover(from outOfRange: [OutOfRangePosition]) async -> Bool {
        metrics.offsetErrors.increment(by: outOfRange.count)
        let (assigned, positions) = state.withLock { ($0.assigned, $0.positions) }
        var failedAt: [TopicPartition: Int64] = [:]
        for position in outOfRange where assigned.contains(position.partition) {
            failedAt[position.partition] = min(failedAt[position.partition] ?? .max, position.offset)
        }
        guard !failedAt.isEmpty else { return true }
        return await retryingUntilStopped("recovering partitions whose offsets Kafka no longer holds") {
            let marks = try await self.consumer.watermarks(of: Array(failedAt.keys))
            for (partition, offset) in failedAt {
                guard let held = marks[partition] else { throw MissingWatermarks(partition: partition) }
                let stored = positions[partition]
                let position = stored ?? (offset >= 0 ? offset : held.low)
                guard let move = Self.reposition(partition, storedOffset: stored, position: position, held: held) else {
                    self.logger.warning(
                        "Kafka reported an offset out of range that it holds again; reading on",
                        metadata: ["partition": "\(partition)", "offset": "\(position)", "held": "\(held)"])
                    continue
                }
                let resumed = try await self.apply(move)
                self.state.withLock { $0.positions[partition] = resumed }
            }
            let starts = self.state.withLock { state in
                Dictionary(uniqueKeysWithValues: state.assigned.map { ($0, state.positions[$0].map(StartOffset.offset) ?? .beginning) })
            }
            try await self.consumer.assign(starts)
        }
    }

    /// The move for a partition read at `position` while Kafka holds `held`; nil when the position is held.
    static func reposition(_ partition: TopicPartition, storedOffset: Int64?, position: Int64, held: Watermarks) -> Reposition? {
        if position < held.low {
            let lost = held.low - position
            return Reposition(
                partition: partition, storedOffset: storedOffset, resumedOffset: held.low, lostMessages: lost,
                reason: "Kafka no longer holds offsets \(position)..<\(held.low) of \(partition): \(lost) messages were dropped "
                    + "by retention before they were stored; resumed at \(held.low)"
            )
        }
        if position > held.high {
            return Reposition(
                partition: partition, storedOffset: storedOffset, resumedOffset: held.low, lostMessages: nil,
                reason: "the log of \(partition) ends at \(held.high), before the stored offset \(position): the topic was "
                    + "recreated or the broker lost its data; resumed at \(held.low), the earliest offset it holds"
            )
        }
        return nil
    }

    /// Stores a move and raises the alert; when another writer moved the position first, takes theirs.
    /// - Returns: the offset the partition resumes from.
    private func apply(_ move: Reposition) async throws -> Int64 {
        let clusterID = state.withLock { $0.clusterID }
        guard try await store.reposition(move, clusterID: clusterID, logger: logger) else {
            let current = try await store.storedOffsets(for: [move.partition], logger: logger)[move.partition]
            logger.warning("another writer moved the partition first; resuming where it stored", metadata: ["partition": "\(move.partition)"])
            return current?.offset ?? move.resumedOffset
        }
        if let lost = move.lostMessages { metrics.lostMessages.increment(by: Int(clamping: lost)) }
        metrics.repositions.increment()
        logger.critical(
            "\(move.reason)",
            metadata: [
                "partition": "\(move.partition)", "stored_offset": "\(move.storedOffset.map(String.init) ?? "none")",
                "resumed_offset": "\(move.resumedOffset)", "lost_messages": "\(move.lostMessages.map(String.init) ?? "unknown")",
            ])
        raiseLossAlert(move.reason + " (see table writer_data_loss)")
        return move.resumedOffset
    }

    /// The cluster's id, asked once and kept.
    private func knownClusterID() async throws -> String? {
        if let known = state.withLock({ $0.clusterID }) { return known }
        let asked = try await consumer.clusterID(timeout: .seconds(5))
        state.withLock { $0.clusterID = asked }
        return asked
    }
}

/// The broker did not report a partition's offsets; retried.
struct MissingWatermarks: Error, CustomStringConvertible {
    var partition: TopicPartition
    var description: String { "the broker did not report the offsets it holds for \(partition)" }
}
