import CRdKafka
import Logging
import NIOPosix
import Synchronization

/// A consumer-group member whose offsets the application keeps itself.
///
/// Nothing is committed to Kafka: the owner stores offsets with the data they cover and hands them back
/// through `assign` after each rebalance. Positions outside what the broker retains are reported as
/// errors (`auto.offset.reset=error`), never skipped silently. Blocking librdkafka calls run on a
/// dedicated thread, never on the cooperative pool.
public final class KafkaConsumer: Sendable {
    private let handle: SendablePointer
    private let queue: SendablePointer
    private let worker = NIOThreadPool(numberOfThreads: 1)
    private let closed = Atomic<Bool>(false)
    private let logger: Logger

    public init(configuration: KafkaConfiguration, groupID: String, logger: Logger) throws(KafkaError) {
        let conf = try configuration.makeNativeConfiguration(
            defaults: [
                "group.id": groupID,
                "enable.auto.commit": "false",
                "enable.auto.offset.store": "false",
                "auto.offset.reset": "error",
                "enable.partition.eof": "false",
                "partition.assignment.strategy": "range",
                // Kafka's smallest allowed session by default: a killed writer's partitions go to another
                // member after 6 s instead of 10 (scripts/chaos measures it).
                "session.timeout.ms": "6000",
                "heartbeat.interval.ms": "1000",
            ].merging(KafkaEventLogging.properties) { $1 })
        rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_REBALANCE | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_FETCH | RD_KAFKA_EVENT_LOG)
        let client = try makeNativeClient(type: RD_KAFKA_CONSUMER, conf: conf)
        KafkaEventLogging.routeLogs(of: client)
        rd_kafka_poll_set_consumer(client)
        guard let consumerQueue = rd_kafka_queue_get_consumer(client) else {
            rd_kafka_destroy(client)
            throw KafkaError("could not open the consumer's queue")
        }
        self.handle = SendablePointer(pointer: client)
        self.queue = SendablePointer(pointer: consumerQueue)
        self.logger = logger
        worker.start()
    }

    deinit {
        rd_kafka_queue_destroy(queue.pointer)
        rd_kafka_destroy(handle.pointer)
        worker.shutdownGracefully { _ in }  // never block: the last reference may drop on that very thread
    }

    /// Joins the group for these topics; assignments then arrive as `Rebalance.assigned` from `poll`.
    public func subscribe(to topics: [String]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        }
        let error = rd_kafka_subscribe(handle.pointer, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, while: "subscribing to \(topics)") }
    }

    /// Waits up to `timeout` for records; returns early with `maxRecords` records or when a rebalance arrives.
    public func poll(maxRecords: Int, timeout: Duration) async throws -> ConsumerPoll {
        try await worker.runIfActive { self.pollBlocking(maxRecords: maxRecords, timeout: timeout) }
    }

    /// Starts reading these partitions at the given offsets; call after `Rebalance.assigned`.
    public func assign(_ starts: [TopicPartition: StartOffset]) async throws {
        try await worker.runIfActive { () throws in
            let list = rd_kafka_topic_partition_list_new(Int32(starts.count))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for (partition, start) in starts {
                let element = rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)
                switch start {
                case .offset(let offset): element?.pointee.offset = offset
                case .beginning: element?.pointee.offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
                case .end: element?.pointee.offset = Int64(RD_KAFKA_OFFSET_END)
                }
            }
            let error = rd_kafka_assign(self.handle.pointer, list)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, while: "assigning partitions") }
        }
    }

    /// The partitions of `topic`, from the broker's metadata; for readers that assign partitions themselves
    /// instead of joining a group.
    public func partitions(of topic: String, timeout: Duration = .seconds(10)) async throws -> [TopicPartition] {
        try await worker.runIfActive { () throws in
            try TopicMetadata.partitionIDs(handle: self.handle.pointer, topic: topic, timeout: timeout)
                .map { TopicPartition(topic: topic, partition: $0) }
        }
    }

    /// What the broker still holds of these partitions (a network round trip, unlike `highWatermark`).
    public func watermarks(of partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws -> [TopicPartition: Watermarks] {
        try await worker.runIfActive { () throws in
            var result: [TopicPartition: Watermarks] = [:]
            for (topic, members) in Dictionary(grouping: partitions, by: \.topic) {
                let found = try TopicMetadata.watermarks(handle: self.handle.pointer, topic: topic, partitions: members.map(\.partition), timeout: timeout)
                for (partition, marks) in found { result[TopicPartition(topic: topic, partition: partition)] = marks }
            }
            return result
        }
    }

    /// The id of the cluster this consumer talks to, so that offsets stored for another cluster are not
    /// mistaken for positions in this one; nil when the broker does not tell.
    public func clusterID(timeout: Duration = .seconds(10)) async throws -> String? {
        try await worker.runIfActive { TopicMetadata.clusterID(handle: self.handle.pointer, timeout: timeout) }
    }

    /// Stops reading every partition; call after `Rebalance.revoked`, once the work on them is stored.
    public func unassign() async throws {
        try await worker.runIfActive { () throws in
            let error = rd_kafka_assign(self.handle.pointer, nil)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, while: "unassigning partitions") }
        }
    }

    /// The broker's high watermark for a partition as last seen in a fetch (no network round trip).
    public func highWatermark(of partition: TopicPartition) -> Int64? {
        var low: Int64 = 0
        var high: Int64 = 0
        let error = rd_kafka_get_watermark_offsets(handle.pointer, partition.topic, partition.partition, &low, &high)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return high
    }

    /// Leaves the group cleanly. The owner must have stored its work first: partitions are released unread.
    public func close() async {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        try? await worker.runIfActive { self.closeBlocking() }
    }

    private func pollBlocking(maxRecords: Int, timeout: Duration) -> ConsumerPoll {
        var result = ConsumerPoll()
        guard !closed.load(ordering: .relaxed) else { return result }
        let deadline = ContinuousClock.now + timeout
        while result.records.count < maxRecords, result.rebalance == nil {
            let remaining = deadline - ContinuousClock.now
            let waitMilliseconds = max(0, TopicMetadata.milliseconds(remaining))
            guard let event = rd_kafka_queue_poll(queue.pointer, result.records.isEmpty ? waitMilliseconds : 0) else {
                if remaining <= .zero || !result.records.isEmpty { break } else { continue }
            }
            handle(event, into: &result)
            rd_kafka_event_destroy(event)
        }
        return result
    }

    private func handle(_ event: OpaquePointer, into result: inout ConsumerPoll) {
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_FETCH:
            while let message = rd_kafka_event_message_next(event) {
                let error = message.pointee.err
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    let failure = KafkaError(error, while: "fetching partition \(message.pointee.partition)")
                    if failure.isOffsetOutOfRange, let topic = message.pointee.rkt {
                        let partition = TopicPartition(topic: String(cString: rd_kafka_topic_name(topic)), partition: message.pointee.partition)
                        result.outOfRange.append(OutOfRangePosition(partition: partition, offset: message.pointee.offset, error: failure))
                    } else {
                        result.errors.append(failure)
                    }
                    continue
                }
                result.records.append(Self.copy(message.pointee))
            }
        case RD_KAFKA_EVENT_REBALANCE:
            let partitions = Self.partitions(in: rd_kafka_event_topic_partition_list(event))
            let kind = rd_kafka_event_error(event)
            if kind == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
                result.rebalance = .assigned(partitions)
            } else {
                result.rebalance = .revoked(partitions)
            }
        case RD_KAFKA_EVENT_ERROR:
            let error = KafkaError(rd_kafka_event_error(event), while: String(cString: rd_kafka_event_error_string(event)))
            // A partition-level error names its partition and the offset that failed.
            if error.isOffsetOutOfRange, let element = rd_kafka_event_topic_partition(event) {
                defer { rd_kafka_topic_partition_destroy(element) }
                let partition = TopicPartition(topic: String(cString: element.pointee.topic), partition: element.pointee.partition)
                result.outOfRange.append(OutOfRangePosition(partition: partition, offset: element.pointee.offset, error: error))
            } else {
                result.errors.append(error)
            }
        default:
            _ = KafkaEventLogging.log(event, to: logger)
        }
    }

    private func closeBlocking() {
        if let error = rd_kafka_consumer_close_queue(handle.pointer, queue.pointer) {
            logger.warning("closing the consumer failed", metadata: ["error": "\(String(cString: rd_kafka_error_string(error)))"])
            rd_kafka_error_destroy(error)
            return
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while rd_kafka_consumer_closed(handle.pointer) == 0, ContinuousClock.now < deadline {
            guard let event = rd_kafka_queue_poll(queue.pointer, 100) else { continue }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE {
                if rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
                    rd_kafka_assign(handle.pointer, rd_kafka_event_topic_partition_list(event))
                } else {
                    rd_kafka_assign(handle.pointer, nil)
                }
            }
            rd_kafka_event_destroy(event)
        }
    }

    private static func copy(_ message: rd_kafka_message_t) -> KafkaRecord {
        let topic = message.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let key = message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) } ?? []
        let value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) } ?? []
        return KafkaRecord(topicPartition: TopicPartition(topic: topic, partition: message.partition), offset: message.offset, key: key, value: value)
    }

    private static func partitions(in list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartition] {
        guard let list, let elements = list.pointee.elems else { return [] }
        return (0..<Int(list.pointee.cnt)).map { index in
            TopicPartition(topic: String(cString: elements[index].topic), partition: elements[index].partition)
        }
    }
}
