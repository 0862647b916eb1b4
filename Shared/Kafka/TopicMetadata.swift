import CRdKafka

/// Broker look-ups that producers and consumers both need, on any client handle. Each call blocks for a
/// network round trip, so callers run it on a thread of their own, never on the cooperative pool.
enum TopicMetadata {
    /// The partition numbers of `topic`, from the broker's metadata.
    static func partitionIDs(handle: OpaquePointer, topic: String, timeout: Duration) throws(KafkaError) -> [Int32] {
        guard let topicHandle = rd_kafka_topic_new(handle, topic, nil) else {
            throw KafkaError(rd_kafka_last_error(), while: "opening topic \(topic)")
        }
        defer { rd_kafka_topic_destroy(topicHandle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(handle, 0, topicHandle, &metadata, milliseconds(timeout))
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(error, while: "reading the metadata of \(topic)") }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt == 1, let topics = metadata.pointee.topics else {
            throw KafkaError("the broker returned no metadata for topic \(topic)")
        }
        let topicError = topics[0].err
        guard topicError == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(topicError, while: "reading the metadata of \(topic)") }
        return (0..<Int(topics[0].partition_cnt)).map { topics[0].partitions[$0].id }
    }

    /// Low and high watermarks of these partitions, in two ListOffsets round trips however many partitions.
    static func watermarks(handle: OpaquePointer, topic: String, partitions: [Int32], timeout: Duration) throws(KafkaError) -> [Int32: Watermarks] {
        guard !partitions.isEmpty else { return [:] }
        // ListOffsets reads the special timestamps -2 and -1 as "earliest" and "latest".
        let lows = try offsets(handle: handle, topic: topic, partitions: partitions, timestamp: Int64(RD_KAFKA_OFFSET_BEGINNING), timeout: timeout)
        let highs = try offsets(handle: handle, topic: topic, partitions: partitions, timestamp: Int64(RD_KAFKA_OFFSET_END), timeout: timeout)
        var result: [Int32: Watermarks] = [:]
        for partition in partitions {
            guard let low = lows[partition], let high = highs[partition] else { continue }
            result[partition] = Watermarks(low: low, high: high)
        }
        return result
    }

    /// The cluster's id, or nil when the broker did not say within `timeout` (old brokers never do).
    static func clusterID(handle: OpaquePointer, timeout: Duration) -> String? {
        guard let text = rd_kafka_clusterid(handle, milliseconds(timeout)) else { return nil }
        defer { rd_kafka_mem_free(handle, text) }
        return String(cString: text)
    }

    private static func offsets(
        handle: OpaquePointer, topic: String, partitions: [Int32], timestamp: Int64, timeout: Duration
    ) throws(KafkaError) -> [Int32: Int64] {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in partitions {
            rd_kafka_topic_partition_list_add(list, topic, partition)?.pointee.offset = timestamp
        }
        let error = rd_kafka_offsets_for_times(handle, list, milliseconds(timeout))
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, while: "reading the offsets of \(topic)") }
        var result: [Int32: Int64] = [:]
        guard let list, let elements = list.pointee.elems else { return result }
        for index in 0..<Int(list.pointee.cnt) where elements[index].err == RD_KAFKA_RESP_ERR_NO_ERROR && elements[index].offset >= 0 {
            result[elements[index].partition] = elements[index].offset
        }
        return result
    }

    static func milliseconds(_ duration: Duration) -> Int32 {
        Int32(clamping: duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
