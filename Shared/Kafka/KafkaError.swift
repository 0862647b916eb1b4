import CRdKafka

/// A failure reported by librdkafka, with what Sluice was doing when it happened.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    /// librdkafka's error code (`rd_kafka_resp_err_t`), or nil for failures outside librdkafka.
    public var code: Int32?
    /// What failed, in words an operator can act on.
    public var message: String
    public var file: String
    public var line: Int

    init(code: Int32? = nil, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    init(_ error: rd_kafka_resp_err_t, while action: String, file: String = #fileID, line: Int = #line) {
        let name = String(cString: rd_kafka_err2name(error))
        let text = String(cString: rd_kafka_err2str(error))
        self.init(code: error.rawValue, "\(action): \(text) (\(name))", file: file, line: line)
    }

    public var description: String { "Kafka: \(message)" }

    /// The local queue is full: the broker is not keeping up or cannot be reached. Retrying later helps.
    public var isQueueFull: Bool { code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue }

    /// The consumer's position fell outside what the broker still retains, so data may have been lost.
    public var isOffsetOutOfRange: Bool {
        code == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET.rawValue || code == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE.rawValue
    }

    static let closed = KafkaError("the client is closed")
}
