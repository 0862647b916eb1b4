import Logging
import Metrics
import ServiceLifecycle
import SluiceKafka
import SluiceModel
import Synchronization

/// Publishes what each committed batch changed (one `SeriesChange` per series) to the change-feed topic.
///
/// Publishing happens after the commit and off the consume loop: the feed is a hint that lets caches
/// refresh within a second, not part of exactly-once storage, so a slow or absent broker must never hold
/// up writing. Changes wait in a buffer bounded by how many changes it holds (not how many batches: one
/// batch may name thousands of series); when it is full, the newest are dropped and counted, and the
/// bridge's periodic full refresh repairs what they would have told it.
public final class ChangeFeed: Service, Sendable {
    private let producer: KafkaProducer
    private let topic: String
    private let logger: Logger
    private let stream: AsyncStream<[SeriesChange]>
    private let continuation: AsyncStream<[SeriesChange]>.Continuation
    private let published = Counter(label: "sluice_writer_changes_published_total")
    private let dropped = Counter(label: "sluice_writer_changes_dropped_total")
    private let queued = Atomic<Int>(0)
    private let maxQueued: Int

    /// - Parameter maxQueuedChanges: changes held at most while the broker is slow; about 100 bytes each.
    public init(producer: KafkaProducer, topic: String, maxQueuedChanges: Int = 200_000, logger: Logger) {
        self.producer = producer
        self.topic = topic
        self.logger = logger
        self.maxQueued = maxQueuedChanges
        (stream, continuation) = AsyncStream.makeStream(of: [SeriesChange].self, bufferingPolicy: .unbounded)
    }

    /// Changes waiting to be sent.
    var queuedChanges: Int { queued.load(ordering: .relaxed) }

    /// Queues the changes of one committed batch, unless the buffer is full; never waits.
    public func publish(_ changes: [SeriesChange]) {
        guard !changes.isEmpty else { return }
        guard queued.add(changes.count, ordering: .relaxed).newValue <= maxQueued else {
            queued.subtract(changes.count, ordering: .relaxed)
            dropped.increment(by: changes.count)
            return
        }
        if case .terminated = continuation.yield(changes) {
            queued.subtract(changes.count, ordering: .relaxed)
            dropped.increment(by: changes.count)
        }
    }

    /// Sends queued changes until shutdown, then sends what is still queued.
    public func run() async {
        await withGracefulShutdownHandler {
            for await changes in stream {
                queued.subtract(changes.count, ordering: .relaxed)
                let messages = changes.map { OutgoingMessage(key: SeriesChangeCodec.key(for: $0), value: SeriesChangeCodec.value(for: $0)) }
                do {
                    try await producer.send(messages, to: topic)
                    published.increment(by: changes.count)
                } catch {
                    dropped.increment(by: changes.count)
                    logger.warning(
                        "could not publish changes; caches will catch up on their next full refresh",
                        metadata: ["error": "\(error)", "changes": "\(changes.count)"])
                }
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }
}
