import Logging
import SluiceKafka
import SluiceModel
import Testing

@testable import Ingest
@testable import Writer

/// How ingest measures the writer's backlog, and how the writer decides a stored position is gone.
@Suite struct BacklogTests {
    @Test func theBacklogIsThePartitionFurthestBehind() {
        let held: [Int32: Watermarks] = [0: .init(low: 0, high: 500), 1: .init(low: 100, high: 900), 2: .init(low: 0, high: 0)]
        #expect(Backlog.largest(watermarks: held, stored: [0: 450, 1: 300]) == Backlog(partition: 1, messages: 600, storedOffsetsKnown: true))
        // A partition never stored counts from the oldest offset Kafka holds.
        #expect(Backlog.largest(watermarks: held, stored: [0: 450]) == Backlog(partition: 1, messages: 800, storedOffsetsKnown: true))
        // Offsets never read: every partition counts from its oldest offset, the most that could be unstored.
        #expect(Backlog.largest(watermarks: held, stored: nil) == Backlog(partition: 1, messages: 800, storedOffsetsKnown: false))
        // A stored offset Kafka no longer holds counts from itself: ingest refuses until the writer moved on.
        #expect(Backlog.largest(watermarks: held, stored: [0: 500, 1: 40]).messages == 860)
        #expect(Backlog.largest(watermarks: [:], stored: [:]).messages == 0)
    }

    @Test func aPositionKafkaStillHoldsIsNotMoved() {
        let partition = TopicPartition(topic: "t", partition: 0)
        let held = Watermarks(low: 100, high: 200)
        #expect(WriterService.reposition(partition, storedOffset: 150, position: 150, held: held) == nil)
        #expect(WriterService.reposition(partition, storedOffset: 200, position: 200, held: held) == nil)
        #expect(WriterService.reposition(partition, storedOffset: 100, position: 100, held: held) == nil)
    }

    @Test func aPositionBeforeTheOldestHeldIsALossOfTheGap() throws {
        let partition = TopicPartition(topic: "t", partition: 3)
        let move = try #require(WriterService.reposition(partition, storedOffset: 40, position: 40, held: Watermarks(low: 100, high: 200)))
        #expect(move.resumedOffset == 100)
        #expect(move.lostMessages == 60)
        #expect(move.reason.contains("no longer holds offsets 40..<100 of t[3]"))
    }

    @Test func aPositionPastTheEndMeansTheLogWasRecreated() throws {
        let partition = TopicPartition(topic: "t", partition: 0)
        let move = try #require(WriterService.reposition(partition, storedOffset: 5000, position: 5000, held: Watermarks(low: 0, high: 20)))
        #expect(move.resumedOffset == 0)
        #expect(move.lostMessages == nil)
        #expect(move.reason.contains("ends at 20, before the stored offset 5000"))
    }
}

/// The writer's change feed holds a bounded number of changes however the broker fares.
@Suite struct ChangeFeedBufferTests {
    @Test func changesPastTheBoundAreDroppedNotHeld() throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"), logger: Logger(label: "test"))
        let feed = ChangeFeed(producer: producer, topic: "t", maxQueuedChanges: 100, logger: Logger(label: "test"))
        let batch = (0..<40).map { SeriesChange(series: SeriesKey(domain: "d", tag: "t\($0)"), minTime: 1, maxTime: 2) }
        feed.publish(batch)
        feed.publish(batch)
        feed.publish(batch)  // 120 would pass the bound of 100: dropped whole
        #expect(feed.queuedChanges == 80)
    }
}
