import Logging
import ServiceLifecycle
import SluiceKafka
import SluiceModel
import Synchronization

/// Reads the writer's change feed and tells the backing jobs which points to fetch again.
///
/// Every bridge copy needs every change, so it reads all partitions itself (no consumer group, nothing
/// committed) from the end: what happened before it started is covered by each job's first fill, and any
/// gap in reading is covered by making every job fetch its whole grid again.
final class ChangeFeedListener: Service, Sendable {
    private let consumer: KafkaConsumer
    private let topic: String
    private let registry: JobRegistry
    private let metrics: BridgeMetrics
    private let logger: Logger
    private let stopRequested = Atomic<Bool>(false)

    init(consumer: KafkaConsumer, topic: String, registry: JobRegistry, metrics: BridgeMetrics, logger: Logger) {
        self.consumer = consumer
        self.topic = topic
        self.registry = registry
        self.metrics = metrics
        self.logger = logger
    }

    func run() async {
        await withGracefulShutdownHandler {
            await readUntilStopped()
        } onGracefulShutdown: {
            self.stopRequested.store(true, ordering: .relaxed)
        }
        await consumer.close()
    }

    private func readUntilStopped() async {
        var backoff = Duration.milliseconds(250)
        while !stopRequested.load(ordering: .relaxed) {
            do {
                let partitions = try await consumer.partitions(of: topic, timeout: .seconds(5))
                // The end asked for here, before the refresh below, not left to librdkafka (`StartOffset.end`
                // resolves when its fetcher starts, a moment after `assign`): a change made in between was
                // neither read nor covered by the refresh, and a series stored then stayed "never stored"
                // in the bridge for a minute (ChartPageTests failed so in CI, 2026-12-07).
                let ends = try await consumer.watermarks(of: partitions, timeout: .seconds(5))
                let starts = try partitions.map { partition -> (TopicPartition, StartOffset) in
                    guard let end = ends[partition] else { throw UnknownEnd(partition: partition) }
                    return (partition, .offset(end.high))
                }
                try await consumer.assign(Dictionary(uniqueKeysWithValues: starts))
                metrics.changeFeedReading.record(1)
                logger.info("reading the change feed", metadata: ["topic": "\(topic)", "partitions": "\(partitions.count)"])
                // Changes made before the feed was joined (or while it was lost) were never seen.
                await registry.invalidateAll()
                backoff = .milliseconds(250)
                try await readAssigned()
            } catch {
                metrics.changeFeedReading.record(0)
                logger.warning(
                    "cannot read the change feed; caches rely on their periodic full refresh", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
        metrics.changeFeedReading.record(0)
    }

    /// The broker named no end for a partition of the feed; joining is tried again.
    struct UnknownEnd: Error, CustomStringConvertible {
        var partition: TopicPartition
        var description: String { "the broker did not say where \(partition) ends" }
    }

    private func readAssigned() async throws {
        while !stopRequested.load(ordering: .relaxed) {
            let poll = try await consumer.poll(maxRecords: 10_000, timeout: .milliseconds(200))
            for error in poll.errors { logger.warning("Kafka reported an error on the change feed", metadata: ["error": "\(error)"]) }
            // The broker dropped changes this reader had not read: join again from the end, which refreshes every job.
            if let gone = poll.outOfRange.first { throw gone.error }
            guard !poll.records.isEmpty else { continue }
            // One call per series per poll, however many batches touched it.
            var spans: [SeriesKey: (min: Int64, max: Int64)] = [:]
            for record in poll.records {
                do {
                    let change = try SeriesChangeCodec.decode(key: record.key, value: record.value)
                    let span = spans[change.series]
                    spans[change.series] = (min(span?.min ?? .max, change.minTime), max(span?.max ?? .min, change.maxTime))
                } catch {
                    metrics.unreadableChanges.increment()
                    logger.warning(
                        "skipped an unreadable change record",
                        metadata: ["partition": "\(record.topicPartition)", "offset": "\(record.offset)", "error": "\(error)"])
                }
            }
            metrics.changesReceived.increment(by: poll.records.count)
            for (series, span) in spans { await registry.changed(series, minTime: span.min, maxTime: span.max) }
        }
    }
}
