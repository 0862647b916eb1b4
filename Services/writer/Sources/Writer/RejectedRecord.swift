import SluiceKafka

/// A Kafka record on the measurements topic that is not a Sluice measurement (another producer's, or
/// corrupted): kept whole for an operator instead of being dropped, and skipped so the partition moves on.
public struct RejectedRecord: Sendable, Equatable {
    public var partition: TopicPartition
    public var offset: Int64
    public var key: [UInt8]
    public var value: [UInt8]
    public var reason: String

    public init(partition: TopicPartition, offset: Int64, key: [UInt8], value: [UInt8], reason: String) {
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.reason = reason
    }

    init(record: KafkaRecord, reason: String) {
        self.init(partition: record.topicPartition, offset: record.offset, key: record.key, value: record.value, reason: reason)
    }
}
