import CRdKafka
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A message for `KafkaProducer.send`.
public struct OutgoingMessage: Sendable {
    public var key: [UInt8]
    public var value: [UInt8]

    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

/// An idempotent producer whose `send` returns only when the broker has acknowledged every message.
///
/// Run it as a `Service` before anything that sends: its `run()` serves delivery reports on a dedicated
/// thread, and on graceful shutdown it waits (up to `flushTimeout`) for messages still in flight.
public final class KafkaProducer: Service, Sendable {
    private let handle: SendablePointer
    private let queue: SendablePointer
    private let topics = Mutex<[String: SendablePointer]>([:])
    private let tracker = Mutex(DeliveryTracker())
    private let stopRequested = Atomic<Bool>(false)
    private let pollThread = NIOThreadPool(numberOfThreads: 1)
    private let flushTimeout: Duration
    private let logger: Logger

    /// - Parameters:
    ///   - configuration: bootstrap servers and librdkafka overrides.
    ///   - flushTimeout: how long shutdown waits for messages still in flight.
    public init(configuration: KafkaConfiguration, flushTimeout: Duration = .seconds(10), logger: Logger) throws(KafkaError) {
        let conf = try configuration.makeNativeConfiguration(
            defaults: [
                "enable.idempotence": "true",
                "acks": "all",
                "linger.ms": "2",
                "message.timeout.ms": "5000",
                "queue.buffering.max.messages": "1000000",
            ].merging(KafkaEventLogging.properties) { $1 })
        rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_LOG)
        let client = try makeNativeClient(type: RD_KAFKA_PRODUCER, conf: conf)
        KafkaEventLogging.routeLogs(of: client)
        guard let mainQueue = rd_kafka_queue_get_main(client) else {
            rd_kafka_destroy(client)
            throw KafkaError("could not open the producer's event queue")
        }
        self.handle = SendablePointer(pointer: client)
        self.queue = SendablePointer(pointer: mainQueue)
        self.flushTimeout = flushTimeout
        self.logger = logger
        pollThread.start()
    }

    deinit {
        for topic in topics.withLock({ $0.values }) { rd_kafka_topic_destroy(topic.pointer) }
        rd_kafka_queue_destroy(queue.pointer)
        rd_kafka_destroy(handle.pointer)
        pollThread.shutdownGracefully { _ in }  // never block: the last reference may drop on that very thread
    }

    /// Sends messages to `topic` and returns once the broker acknowledged all of them.
    /// - Throws: `KafkaError` when any message could not be enqueued (`isQueueFull`) or was not delivered.
    ///   Messages enqueued before a failure may still arrive; consumers must tolerate redelivery.
    public func send(_ messages: [OutgoingMessage], to topic: String) async throws {
        guard !messages.isEmpty else { return }
        guard !stopRequested.load(ordering: .relaxed) else { throw KafkaError.closed }
        let topicHandle = try topicHandle(named: topic)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let id = tracker.withLock { $0.register(count: messages.count, continuation: continuation) }
            for (index, message) in messages.enumerated() {
                let accepted = message.value.withUnsafeBytes { value in
                    message.key.withUnsafeBytes { key in
                        rd_kafka_produce(
                            topicHandle.pointer, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                            UnsafeMutableRawPointer(mutating: value.baseAddress), value.count,
                            key.baseAddress, key.count,
                            UnsafeMutableRawPointer(bitPattern: id)
                        )
                    }
                }
                if accepted != 0 {
                    let error = KafkaError(rd_kafka_last_error(), while: "enqueueing message \(index) for \(topic)")
                    settle(id: id, count: messages.count - index, failure: error)
                    return
                }
            }
        }
    }

    /// The partition numbers of `topic`, from the broker's metadata.
    public func partitionIDs(of topic: String, timeout: Duration = .seconds(5)) async throws -> [Int32] {
        // The poll thread is busy serving delivery reports, so blocking look-ups go to NIO's shared pool.
        try await NIOThreadPool.singleton.runIfActive { () throws in
            try TopicMetadata.partitionIDs(handle: self.handle.pointer, topic: topic, timeout: timeout)
        }
    }

    /// What the broker holds of these partitions of `topic` (two network round trips).
    public func watermarks(of topic: String, partitions: [Int32], timeout: Duration = .seconds(5)) async throws -> [Int32: Watermarks] {
        try await NIOThreadPool.singleton.runIfActive { () throws in
            try TopicMetadata.watermarks(handle: self.handle.pointer, topic: topic, partitions: partitions, timeout: timeout)
        }
    }

    public func run() async throws {
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await pollThread.runIfActive { self.serveDeliveryReports() }
            } onGracefulShutdown: {
                self.stopRequested.store(true, ordering: .relaxed)
            }
        } onCancel: {
            self.stopRequested.store(true, ordering: .relaxed)
        }
    }

    /// Asks `run()` to flush and return; for owners that do not use a ServiceGroup.
    public func shutdown() {
        stopRequested.store(true, ordering: .relaxed)
    }

    /// The poll loop: serves delivery reports until asked to stop, then until nothing is in flight or time is up.
    private func serveDeliveryReports() {
        while !stopRequested.load(ordering: .relaxed) {
            pollOnce(timeoutMilliseconds: 100)
        }
        let deadline = ContinuousClock.now + flushTimeout
        while rd_kafka_outq_len(handle.pointer) > 0, ContinuousClock.now < deadline {
            pollOnce(timeoutMilliseconds: 50)
        }
        let left = rd_kafka_outq_len(handle.pointer)
        if left > 0 {
            logger.error("producer closed with messages unacknowledged", metadata: ["messages": "\(left)"])
        }
        let abandoned = tracker.withLock { $0.removeAll() }
        for continuation in abandoned { continuation.resume(throwing: KafkaError.closed) }
    }

    private func pollOnce(timeoutMilliseconds: Int32) {
        guard let event = rd_kafka_queue_poll(queue.pointer, timeoutMilliseconds) else { return }
        defer { rd_kafka_event_destroy(event) }
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_DR:
            while let message = rd_kafka_event_message_next(event) {
                let id = UInt(bitPattern: message.pointee._private)
                let error = message.pointee.err
                let failure = error == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(error, while: "delivering a message")
                settle(id: id, count: 1, failure: failure)
            }
        default:
            _ = KafkaEventLogging.log(event, to: logger)
        }
    }

    private func settle(id: UInt, count: Int, failure: KafkaError?) {
        guard let (continuation, outcome) = tracker.withLock({ $0.settle(id: id, count: count, failure: failure) }) else { return }
        if let outcome { continuation.resume(throwing: outcome) } else { continuation.resume() }
    }

    private func topicHandle(named name: String) throws(KafkaError) -> SendablePointer {
        let result: Result<SendablePointer, KafkaError> = topics.withLock { topics in
            if let existing = topics[name] { return .success(existing) }
            guard let created = rd_kafka_topic_new(handle.pointer, name, nil) else {
                return .failure(KafkaError(rd_kafka_last_error(), while: "opening topic \(name)"))
            }
            topics[name] = SendablePointer(pointer: created)
            return .success(SendablePointer(pointer: created))
        }
        return try result.get()
    }
}
