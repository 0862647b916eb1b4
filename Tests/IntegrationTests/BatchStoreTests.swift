import Logging
import PostgresNIO
import SluiceKafka
import SluiceModel
import SluiceStorage
import SluiceTestSupport
import Testing

@testable import Writer

@Suite(.timeLimit(.minutes(2)))
struct BatchStoreTests {
    let logger = Logger(label: "batch-store-test")
    let partition = TopicPartition(topic: "sluice.measurements", partition: 3)

    func rows(_ client: PostgresClient) async throws -> [(String, Int64, [Double])] {
        var result: [(String, Int64, [Double])] = []
        let query: PostgresQuery = "select s.tag, m.ts, m.vals from measurements m join series s on s.id = m.series_id order by s.tag, m.ts"
        for try await row in try await client.query(query).decode((String, Int64, [Double]).self) { result.append(row) }
        return result
    }

    @Test func aBatchBecomesRowsAndARedeliveryAddsNothing() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 4).migrate(client, logger: logger)
            let store = BatchStore(client: client, consumerGroup: "g")
            let batch = [
                Measurement(tag: "b", time: 20, values: [2, 2.5]),
                Measurement(tag: "a", time: 10, values: [1]),
                Measurement(domain: "other", tag: "a", time: 10, values: [9]),
                Measurement(tag: "tab\there", time: 5, values: [-1e-300]),
            ]
            let first = try await store.store(batch, nextOffsets: [partition: 104], logger: logger)
            #expect((first.inserted, first.duplicates) == (4, 0))
            #expect(
                Set(first.changes.map { "\($0.series.domain)/\($0.series.tag)@\($0.minTime)" }) == [
                    "default/b@20", "default/a@10", "other/a@10", "default/tab\there@5",
                ])
            let again = try await store.store(batch, nextOffsets: [partition: 104], logger: logger)
            #expect((again.inserted, again.duplicates) == (0, 4))
            let stored = try await rows(client)
            #expect(stored.count == 4)
            #expect(stored.map(\.0) == ["a", "a", "b", "tab\there"])
            #expect(stored[2].2 == [2, 2.5])
            #expect(stored[3].2 == [-1e-300])
            #expect(try await store.storedOffsets(for: [partition], logger: logger) == [partition: .init(offset: 104)])
        }
    }

    @Test func theFirstWriteOfASeriesTimeWins() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let store = BatchStore(client: client, consumerGroup: "g")
            _ = try await store.store(
                [Measurement(tag: "x", time: 1, values: [1]), Measurement(tag: "x", time: 1, values: [2])],
                nextOffsets: [partition: 2], logger: logger
            )
            _ = try await store.store([Measurement(tag: "x", time: 1, values: [3])], nextOffsets: [partition: 3], logger: logger)
            #expect(try await rows(client).map(\.2) == [[1]])
        }
    }

    /// Values travel in binary: whatever finite double a producer sent is stored with the same bits —
    /// subnormals, the extremes, negative zero, random bit patterns, one to 64 values a row — and tags
    /// that text formats would have to quote or escape are stored as sent.
    @Test func everyValueIsStoredBitForBit() async throws {
        var generator = SeededGenerator(seed: 11)
        let special: [Double] = [
            -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
            -.greatestFiniteMagnitude, 1e-300, 0.1, .leastNonzeroMagnitude * 3,
        ]
        var batch = [Measurement(tag: #"a\b "q" {x,y} ünï"#, time: 1, values: special)]
        for time in 2...200 {
            let width = Int.random(in: 1...64, using: &generator)
            var values: [Double] = []
            while values.count < width {
                let value = Double(bitPattern: UInt64.random(in: .min ... .max, using: &generator))
                if value.isFinite { values.append(value) }
            }
            batch.append(Measurement(tag: time.isMultiple(of: 2) ? "NULL" : "t\\", time: Int64(time), values: values))
        }
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let outcome = try await BatchStore(client: client, consumerGroup: "g").store(batch, nextOffsets: [partition: 1], logger: logger)
            #expect(outcome.inserted == batch.count)
            // Both sides sorted here: the database's collation need not order these tags as Swift does.
            let stored = try await rows(client).sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            let expected = batch.sorted { ($0.tag, $0.time) < ($1.tag, $1.time) }
            #expect(stored.map(\.0) == expected.map(\.tag))
            #expect(stored.map { $0.2.map(\.bitPattern) } == expected.map { $0.values.map(\.bitPattern) })
        }
    }

    /// A batch whose values do not fit in one statement goes in several, and Kafka order still decides
    /// which of two writes of a time wins when they fall in different statements.
    @Test func aBatchTooLargeForOneStatementKeepsKafkaOrder() async throws {
        var batch = (0..<110_000).map { index in
            Measurement(tag: "t\(index % 100)", time: Int64(index), values: [Double](repeating: Double(index), count: 10))
        }
        #expect(batch.count * 10 > StagingRows.valuesPerStatement)
        // Late in the first statement and again last in the batch, numbered lower within its own statement.
        batch.append(Measurement(tag: "t0", time: 104_000, values: [-1]))
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let outcome = try await BatchStore(client: client, consumerGroup: "g").store(batch, nextOffsets: [partition: 1], logger: logger)
            #expect((outcome.inserted, outcome.duplicates) == (110_000, 1))
            let query: PostgresQuery = """
                select m.ts, m.vals from measurements m join series s on s.id = m.series_id
                where s.tag = 't0' and m.ts in (0, 104000, 109900) order by m.ts
                """
            var kept: [(Int64, [Double])] = []
            for try await row in try await client.query(query).decode((Int64, [Double]).self) { kept.append(row) }
            #expect(kept.map(\.0) == [0, 104_000, 109_900])
            #expect(kept.map(\.1) == [0, 104_000, 109_900].map { [Double](repeating: $0, count: 10) })
        }
    }

    @Test func storedOffsetsNeverMoveBackwards() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let store = BatchStore(client: client, consumerGroup: "g")
            let other = TopicPartition(topic: "sluice.measurements", partition: 0)
            _ = try await store.store([], nextOffsets: [partition: 50, other: 7], logger: logger)
            _ = try await store.store([], nextOffsets: [partition: 40], logger: logger)
            let offsets = try await store.storedOffsets(for: [partition, other, TopicPartition(topic: "t", partition: 9)], logger: logger)
            #expect(offsets.mapValues(\.offset) == [partition: 50, other: 7])
            let otherGroup = try await BatchStore(client: client, consumerGroup: "h").storedOffsets(for: [partition], logger: logger)
            #expect(otherGroup.isEmpty)
        }
    }

    @Test func offsetsRememberTheirClusterAndARepositionIsRecordedWithIt() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let store = BatchStore(client: client, consumerGroup: "g")
            _ = try await store.store([], nextOffsets: [partition: 10], clusterID: "cluster-a", logger: logger)
            #expect(try await store.storedOffsets(for: [partition], logger: logger) == [partition: .init(offset: 10, clusterID: "cluster-a")])

            let move = Reposition(partition: partition, storedOffset: 10, resumedOffset: 25, lostMessages: 15, reason: "retention")
            #expect(try await store.reposition(move, clusterID: "cluster-a", logger: logger))
            #expect(try await store.storedOffsets(for: [partition], logger: logger)[partition]?.offset == 25)
            // A second writer acting on the same stale position changes nothing and records nothing.
            #expect(try await store.reposition(move, clusterID: "cluster-a", logger: logger) == false)
            // A partition never stored is recorded too, and a reset may move a position backwards.
            let fresh = TopicPartition(topic: "sluice.measurements", partition: 0)
            #expect(
                try await store.reposition(
                    Reposition(partition: fresh, storedOffset: nil, resumedOffset: 3, lostMessages: 3, reason: "never stored"), clusterID: nil, logger: logger))
            #expect(
                try await store.reposition(
                    Reposition(partition: partition, storedOffset: 25, resumedOffset: 0, lostMessages: nil, reason: "new cluster"), clusterID: "cluster-b",
                    logger: logger))
            #expect(try await store.storedOffsets(for: [partition], logger: logger) == [partition: .init(offset: 0, clusterID: "cluster-b")])

            var recorded: [String] = []
            let query: PostgresQuery = """
                select partition || ':' || coalesce(stored_offset::text, '-') || '->' || resumed_offset || ':' || coalesce(lost_messages::text, '?') || ':' || reason
                from writer_data_loss order by id
                """
            for try await line in try await client.query(query).decode(String.self) { recorded.append(line) }
            #expect(recorded == ["3:10->25:15:retention", "0:-->3:3:never stored", "3:25->0:?:new cluster"])
        }
    }

    /// A store that fails after creating a series leaves nothing of it behind: retried, the series is
    /// created again (with a new id: a sequence does not roll back) with its name and labels, and its tier
    /// rows go to that id. Before, the writer remembered the id the failed transaction had read, so the
    /// retry folded the series' tiers under an id no row has (and, now that only series without an id
    /// have their labels taken apart, would have stored it without labels).
    @Test func aFailedStoreLeavesNoSeriesIDBehind() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let store = BatchStore(client: client, consumerGroup: "g")
            let tag = #"cpu{host="a"}"#
            let minute: Int64 = 60_000_000_000
            let start: Int64 = 1_795_500_000 * 1_000_000_000
            // Three minutes apart: the first minute closes in the store, a tier row of its own.
            let batch = [Measurement(tag: tag, time: start, values: [1]), Measurement(tag: tag, time: start + 3 * minute, values: [2])]
            // PostgreSQL refuses a NUL in text: the store fails at its last statements, after the series is made.
            let refused = RejectedRecord(partition: partition, offset: 1, key: [], value: [], reason: "a NUL \u{0} in text")
            await #expect(throws: (any Error).self) {
                _ = try await store.store(batch, nextOffsets: [partition: 2], rejected: [refused], logger: logger)
            }
            #expect(try await client.count("select count(*) from series") == 0)
            _ = try await store.store(batch, nextOffsets: [partition: 2], logger: logger)
            var named: [(String, String)] = []
            for try await row in try await client.query("select name, labels::text from series").decode((String, String).self) { named.append(row) }
            #expect(named.map(\.0) == ["cpu"])
            #expect(named.map(\.1) == [#"{"host": "a"}"#])
            #expect(try await client.count("select count(*) from rollups_1m r join series s on s.id = r.series_id") == 1)
            for table in ["rollups_1m", "rollup_marks"] {
                #expect(try await client.count("select count(*) from \(table) r where not exists (select 1 from series s where s.id = r.series_id)") == 0)
            }
        }
    }

    @Test func unreadableRecordsAreKeptWholeWithTheBatchThatSkipsThem() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let store = BatchStore(client: client, consumerGroup: "g")
            let bad = RejectedRecord(partition: partition, offset: 41, key: Array("no-slash".utf8), value: [0x00, 0xFF, 0x7F], reason: "no separator")
            _ = try await store.store([Measurement(tag: "x", time: 1, values: [1])], nextOffsets: [partition: 42], rejected: [bad], logger: logger)
            var kept: [(Int32, Int64, String, String, String)] = []
            let query: PostgresQuery = """
                select partition, record_offset, encode(record_key, 'hex'), encode(record_value, 'hex'), reason from writer_rejected_records
                """
            for try await row in try await client.query(query).decode((Int32, Int64, String, String, String).self) { kept.append(row) }
            #expect(kept.count == 1)
            #expect(kept.first?.0 == 3 && kept.first?.1 == 41)
            #expect(kept.first?.2 == "6e6f2d736c617368" && kept.first?.3 == "00ff7f")
            #expect(kept.first?.4 == "no separator")
        }
    }
}
