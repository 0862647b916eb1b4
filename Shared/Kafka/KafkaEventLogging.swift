import CRdKafka
import Logging

/// librdkafka's own log lines and errors, routed into swift-log so that they carry the service's label
/// and format instead of going straight to standard error.
enum KafkaEventLogging {
    /// Properties and event flags that send librdkafka's logs to the client's main queue.
    static let properties = ["log.queue": "true"]

    /// Points the client's logs at its main queue; call once after creating the handle.
    static func routeLogs(of client: OpaquePointer) {
        _ = rd_kafka_set_log_queue(client, nil)
    }

    /// Logs a LOG or ERROR event; returns false for other events.
    static func log(_ event: OpaquePointer, to logger: Logger) -> Bool {
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_LOG:
            var facility: UnsafePointer<CChar>?
            var text: UnsafePointer<CChar>?
            var level: Int32 = 0
            guard rd_kafka_event_log(event, &facility, &text, &level) == 0 else { return true }
            logger.log(
                level: Self.level(syslog: level),
                "\(text.map { String(cString: $0) } ?? "")",
                metadata: ["kafka_facility": "\(facility.map { String(cString: $0) } ?? "")"]
            )
            return true
        case RD_KAFKA_EVENT_ERROR:
            let text = String(cString: rd_kafka_event_error_string(event))
            let fatal = rd_kafka_event_error_is_fatal(event) != 0
            logger.log(level: fatal ? .critical : .warning, "Kafka reported an error", metadata: ["error": "\(text)"])
            return true
        default:
            return false
        }
    }

    /// librdkafka uses syslog levels: 0 emergency … 7 debug.
    static func level(syslog: Int32) -> Logger.Level {
        switch syslog {
        case ...3: .error
        case 4: .warning
        case 5, 6: .info
        default: .debug
        }
    }
}
