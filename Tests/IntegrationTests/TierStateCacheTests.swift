import Logging
import PostgresNIO
import SluiceModel
import SluiceStorage
import SluiceTestSupport
import Testing
import Writer

@testable import Query

/// `/api`'s tier cache against real PostgreSQL: every way a kept row can change under it, each followed by
/// the same answer as a reader without a cache. The randomized rollup tests (`RollupTests`) keep a cache
/// across the writer's, the refresher's and rebuilds' changes too.
@Suite(.timeLimit(.minutes(2)))
struct TierStateCacheTests {
    let logger = Logger(label: "tier-cache-test")
    let second: Int64 = 1_000_000_000
    let minute: Int64 = 60_000_000_000
    let hour: Int64 = 3_600_000_000_000
    /// Where every test's series starts: on an hour.
    let base: Int64 = 1_700_000_000 * 1_000_000_000 / 3_600_000_000_000 * 3_600_000_000_000

    /// Two hours every 10 s from `base` up to 119:30, 60 points a batch through `write`: minute 119 stays
    /// open, read raw.
    func writeTwoHours(_ write: ([Int64]) async throws -> Void) async throws {
        let times = Array(stride(from: base, through: base + 119 * minute + 30 * second, by: Int64.Stride(10 * second)))
        for start in stride(from: 0, to: times.count, by: 60) { try await write(Array(times[start..<min(start + 60, times.count)])) }
    }

    @Test func keptRowsFollowEveryChangeToTheirRows() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let points = (0..<720).map { step in
                Measurement(tag: "kept", time: base + Int64(step) * 10_000_000_000, values: [Double(step), Double(step % 7), 1])
            }
            let store = BatchStore(client: client, consumerGroup: "g")
            for start in stride(from: 0, to: points.count, by: 60) {
                _ = try await store.store(Array(points[start..<start + 60]), nextOffsets: [:], logger: logger)
            }
            let cache = TierStateCache(maximumBytes: 100 << 20)
            // Without kept raw minutes a window is read in a snapshot, statement by statement; with them,
            // listed by one statement first (`WindowListing`).
            let readers = [
                "in a snapshot": AggregateReader(client: client, cache: cache),
                "listed": AggregateReader(client: client, cache: TierStateCache(maximumBytes: 100 << 20), rawMinutes: RawMinuteCache(maximumBytes: 100 << 20)),
            ]
            let plain = AggregateReader(client: client)
            let logger = self.logger
            let grid = BucketGrid(start: base, end: base + 2 * hour, step: 5 * minute)
            func expectSameAnswers(_ when: String) async throws {
                let want = try await plain.states(seriesID: 1, grid: grid, logger: logger)
                for (path, cached) in readers {
                    for round in ["read", "kept"] {
                        let got = try await cached.states(seriesID: 1, grid: grid, logger: logger)
                        #expect(got.tier == .minute && want.tier == .minute, "\(when), \(path), \(round)")
                        #expect(got.states == want.states, "\(when), \(path), \(round)")
                    }
                }
            }
            func execute(_ sql: String) async throws { _ = try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger) }

            try await expectSameAnswers("first read")
            #expect(cache.byteCount > 100 * TierStateCache.bytes(of: BucketState(time: 0, values: [0, 0, 0])))
            try await execute("update rollups_1m set sums = array(select s * 2 from unnest(sums) s) where bucket = \(base + 10 * minute)")
            try await expectSameAnswers("a row rewritten")
            try await execute("delete from rollups_1m where bucket = \(base + 20 * minute)")
            try await expectSameAnswers("a row deleted")
            try await execute(
                """
                insert into rollups_1m (series_id, bucket, counts, sums, mins, maxs, firsts, lasts, increases, first_ts, last_ts, first_point, last_point)
                select series_id, bucket - \(minute), counts, sums, mins, maxs, firsts, lasts, increases, first_ts - \(minute), last_ts - \(minute),
                       first_point, last_point
                from rollups_1m where bucket = \(base + 21 * minute)
                """
            )
            try await expectSameAnswers("a row inserted where one was deleted")

            // Transactions commit out of id order: A takes its id, B rewrites a row and commits, a read keeps
            // B's version (the newest id in the window), then A rewrites another row and commits. No row
            // count or newest id tells A's change apart; each row's own version does.
            try await client.withConnection { a in
                try await a.query("begin", logger: logger)
                try await a.query("select txid_current()", logger: logger)
                try await execute("update rollups_1m set mins = array(select m - 1 from unnest(mins) m) where bucket = \(base + 30 * minute)")
                try await expectSameAnswers("B committed")
                try await a.query(
                    PostgresQuery(unsafeSQL: "update rollups_1m set mins = array(select m - 1 from unnest(mins) m) where bucket = \(base + 40 * minute)"),
                    logger: logger)
                try await a.query("commit", logger: logger)
            }
            try await expectSameAnswers("A committed after B, with the older id")
            for (path, cached) in readers {
                let answer = try await cached.states(seriesID: 1, grid: grid, logger: logger).states
                #expect(answer[8]?.minimums.first == Double(40 * 6 - 1), "the 40th minute's rewritten minimum is in the answer, \(path)")
            }

            // A rebuild rewrites every row with the same values: kept states are read again, answers unchanged.
            _ = try await RollupRebuild.rebuild(client, logger: logger)
            try await expectSameAnswers("rebuilt")
        }
    }

    /// The raw minutes past the tiers (the newest, open one; a marked one) kept folded: points added after
    /// them, a late point among them, a row rewritten or removed — each answered as without a cache.
    @Test func keptRawMinutesFollowEveryChangeToTheirRows() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            func point(_ time: Int64) -> Measurement {
                Measurement(tag: "raw", time: time, values: [Double(time / second % 1000), Double(time / second % 7), 1])
            }
            let store = BatchStore(client: client, consumerGroup: "g")
            let logger = self.logger
            func write(_ times: [Int64]) async throws { _ = try await store.store(times.map(point), nextOffsets: [:], logger: logger) }
            try await writeTwoHours(write)
            let rawMinutes = RawMinuteCache(maximumBytes: 100 << 20)
            let cached = AggregateReader(client: client, cache: TierStateCache(maximumBytes: 100 << 20), rawMinutes: rawMinutes)
            let plain = AggregateReader(client: client)
            let grid = BucketGrid(start: base, end: base + 2 * hour, step: 5 * minute)
            func expectSameAnswers(_ when: String) async throws {
                let want = try await plain.states(seriesID: 1, grid: grid, logger: logger)
                for round in ["read", "kept"] {
                    let got = try await cached.states(seriesID: 1, grid: grid, logger: logger)
                    #expect(got.states == want.states, "\(when), \(round)")
                    let rates = try await cached.buckets(seriesID: 1, grid: grid, function: .rate, logger: logger).values
                    #expect(rates == (try await plain.buckets(seriesID: 1, grid: grid, function: .rate, logger: logger).values), "\(when), \(round): rate")
                }
            }
            func execute(_ sql: String) async throws { _ = try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
            let open = base + 119 * minute

            try await expectSameAnswers("first read")
            #expect(rawMinutes.minute(seriesID: 1, start: open)?.rows.count == 4)
            try await write([open + 40 * second, open + 50 * second])
            try await expectSameAnswers("later points in the open minute")
            #expect(rawMinutes.minute(seriesID: 1, start: open)?.rows.count == 6)
            try await write([open + 35 * second])
            try await expectSameAnswers("a late point inside the open minute")
            try await execute("update measurements set vals = array[-5, -5, -5]::float8[] where ts = \(open + 10 * second)")
            try await expectSameAnswers("a row rewritten")
            try await execute("delete from measurements where ts = \(open + 20 * second)")
            try await expectSameAnswers("a row removed")
            // The raw rows are now expected from where the newest kept minute row ends: without that row,
            // its minute's raw rows are read too.
            try await execute("delete from rollups_1m where bucket = \(open - minute)")
            try await expectSameAnswers("the newest minute row removed")
            // A late point in a closed minute marks it: read raw until the refresher rebuilds it.
            try await write([base + 50 * minute + 5 * second])
            try await expectSameAnswers("a marked minute")
            try await write([base + 50 * minute + 6 * second])
            try await expectSameAnswers("a second late point in the marked minute")
            _ = try await RollupRefresher(client: client).refreshAll(logger: logger)
            try await expectSameAnswers("refreshed")
        }
    }

    /// A window listed by one statement (`WindowListing`) has what the caches lack read after it, outside
    /// the listing's snapshot: a transaction committing in between must be seen whole or not at all.
    @Test func aChangeBetweenTheListingAndItsReadsIsNeverHalfSeen() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let store = BatchStore(client: client, consumerGroup: "g")
            let logger = self.logger
            func write(_ times: [Int64]) async throws {
                let points = times.map { Measurement(tag: "race", time: $0, values: [Double($0 / second % 1000), 1]) }
                _ = try await store.store(points, nextOffsets: [:], logger: logger)
            }
            try await writeTwoHours(write)
            let open = base + 119 * minute
            let cached = AggregateReader(client: client, cache: TierStateCache(maximumBytes: 100 << 20), rawMinutes: RawMinuteCache(maximumBytes: 100 << 20))
            let plain = AggregateReader(client: client)
            let grid = BucketGrid(start: base, end: base + 2 * hour, step: 5 * minute)
            func execute(_ sql: String) async throws { _ = try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
            _ = try await cached.states(seriesID: 1, grid: grid, logger: logger)

            /// `between` commits between the listing and the reads; it changes a row the cache keeps and one
            /// it must read (changed by `before`, so its listed version is not kept).
            func expectSeenWhole(_ when: String, before: () async throws -> Void, between: String) async throws {
                try await before()
                let listed = try await plain.states(seriesID: 1, grid: grid, logger: logger).states
                var racing = cached
                racing.afterListing = { _ = try await client.query(PostgresQuery(unsafeSQL: between), logger: logger) }
                let got = try await racing.states(seriesID: 1, grid: grid, logger: logger).states
                let committed = try await plain.states(seriesID: 1, grid: grid, logger: logger).states
                #expect(committed != listed, "\(when): the change between was made")
                #expect(got == committed, "\(when)")
            }
            try await expectSeenWhole(
                "tier rows",
                before: { try await execute("update rollups_1m set sums = array(select s + 1 from unnest(sums) s) where bucket = \(base + 10 * minute)") },
                between: "update rollups_1m set sums = array(select s + 1 from unnest(sums) s) where bucket in (\(base + 10 * minute), \(base + 70 * minute))"
            )
            try await expectSeenWhole(
                "raw rows of the open minute",
                before: { try await write([open + 40 * second, open + 50 * second]) },
                between: "update measurements set vals = array[-7, -7]::float8[] where ts in (\(open + 10 * second), \(open + 40 * second))"
            )
        }
    }

    @Test func theSeriesUsedLongestAgoAreForgottenPastTheLimit() {
        let rowBytes = TierStateCache.bytes(of: BucketState(time: 0, values: [1]))
        let cache = TierStateCache(maximumBytes: 100 * rowBytes)
        let tier = RollupTier.minute
        func rows(_ count: Int) -> [(version: RowVersion, block: StateBlock)] {
            (0..<count).map { index in
                (
                    RowVersion(transaction: 7, block: 0, item: UInt16(index + 1)),
                    StateBlock(start: Int64(index) * minute, state: BucketState(time: Int64(index) * minute, values: [1]))
                )
            }
        }
        func listed(_ range: Range<Int>) -> [RowListing] { rows(range.upperBound)[range].map { RowListing(key: $0.block.start, version: $0.version) } }
        func found(_ seriesID: Int64, _ range: Range<Int>, listing: [RowListing]? = nil) -> [Bool] {
            cache.rows(tier, seriesID: seriesID, span: Int64(range.lowerBound) * minute..<Int64(range.upperBound) * minute, listed: listing ?? listed(range))
                .map { $0 != nil }
        }
        cache.remember(tier, seriesID: 1, rows: rows(40), read: .now)
        cache.remember(tier, seriesID: 2, rows: rows(40), read: .now)
        // Series 1 used again: series 2 is now the one used longest ago.
        #expect(found(1, 0..<40).allSatisfy { $0 })
        cache.remember(tier, seriesID: 3, rows: rows(40), read: .now)
        #expect(cache.byteCount == 80 * rowBytes)
        // Read again, a row replaces its kept copy rather than adding to it.
        cache.remember(tier, seriesID: 3, rows: rows(40), read: .now)
        #expect(cache.byteCount == 80 * rowBytes)
        #expect(found(2, 0..<40).allSatisfy { !$0 })
        #expect(found(1, 0..<40).allSatisfy { $0 })
        // A span inside the kept rows leaves the rows outside it alone.
        #expect(found(3, 10..<20).allSatisfy { $0 })
        #expect(cache.byteCount == 80 * rowBytes)
        // Rows not listed in the span asked for are gone from PostgreSQL and forgotten; a changed version is not used.
        var changed = listed(0..<20)
        changed[5].version.transaction = 8
        #expect(found(1, 0..<40, listing: changed) == (0..<20).map { $0 != 5 })
        #expect(cache.byteCount == 59 * rowBytes)
        #expect(found(1, 0..<40) == (0..<40).map { $0 < 20 && $0 != 5 })
        // Another tier of the same series is another entry.
        #expect(cache.rows(.hour, seriesID: 1, span: 0..<minute, listed: listed(0..<1)).allSatisfy { $0 == nil })
    }

    @Test func rowsReadLongerAgoThanTheMaximumAgeAreReadAgain() {
        let version = RowVersion(transaction: 1, block: 0, item: 1)
        for (age, kept) in [(Duration.seconds(3600), true), (.zero, false)] {
            let cache = TierStateCache(maximumBytes: 1 << 20, maximumAge: age)
            cache.remember(.minute, seriesID: 1, rows: [(version, StateBlock(start: 0, state: BucketState(time: 0, values: [1])))], read: .now)
            #expect(
                cache.rows(.minute, seriesID: 1, span: 0..<minute, listed: [RowListing(key: 0, version: version)]).map { $0?.state } == [
                    kept ? BucketState(time: 0, values: [1]) : nil
                ], "\(age)")
        }
    }
}
