/// A topic partition, as assigned by the consumer group.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// One consumed record, copied out of librdkafka's buffers.
public struct KafkaRecord: Sendable {
    public var topicPartition: TopicPartition
    public var offset: Int64
    public var key: [UInt8]
    public var value: [UInt8]

    public init(topicPartition: TopicPartition, offset: Int64, key: [UInt8], value: [UInt8]) {
        self.topicPartition = topicPartition
        self.offset = offset
        self.key = key
        self.value = value
    }
}

/// A change of assignment the application must act on before it polls again.
public enum Rebalance: Sendable, Equatable {
    /// The group gave this member these partitions; call `assign` with the offsets to resume from.
    case assigned([TopicPartition])
    /// The group is taking these partitions away; finish work on them, then call `unassign`.
    case revoked([TopicPartition])
}

/// What one `poll` returned: records in partition order, then at most one rebalance, and any errors seen.
public struct ConsumerPoll: Sendable {
    public var records: [KafkaRecord] = []
    public var rebalance: Rebalance?
    /// Partitions the consumer stopped reading because their position is not on the broker; they stay
    /// stopped until assigned again.
    public var outOfRange: [OutOfRangePosition] = []
    public var errors: [KafkaError] = []
}

/// A partition whose next offset the broker no longer holds (retention dropped it, or the log was
/// recreated shorter): with `auto.offset.reset=error` librdkafka stops reading it and says so.
public struct OutOfRangePosition: Sendable {
    public var partition: TopicPartition
    /// The offset that could not be read, or a negative logical offset when librdkafka did not say.
    public var offset: Int64
    public var error: KafkaError
}

/// Where to start reading a partition.
public enum StartOffset: Sendable, Equatable {
    case offset(Int64)
    case beginning
    /// Only records produced from now on: for feeds whose history no longer matters.
    case end
}
