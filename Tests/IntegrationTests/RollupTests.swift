import Logging
import PostgresNIO
import Query
import SluiceModel
import SluiceStorage
import SluiceTestSupport
import Testing
import Writer

import class Foundation.ProcessInfo

/// The writer's rollup tiers against the same aggregates computed from the raw rows in one SQL
/// statement (`createExpectedTiers`, written apart from the Swift that folds), after batches full of
/// late, out-of-order, duplicate and ragged data: every count, minimum, maximum, first, last, point and
/// time equal, sums and increases within 1e-9 relative (PostgreSQL's `sum` adds in its own order). And
/// `/api`'s reader against the raw rows alone, before and after the refresher rebuilt the marks.
@Suite(.timeLimit(.minutes(2)))
struct RollupTests {
    let logger = Logger(label: "rollup-test")

    struct Row: Equatable {
        var counts: [Int32]
        var sums: [Double]
        var mins: [Double]
        var maxs: [Double]
        var firsts: [Double]
        var lasts: [Double]
        var increases: [Double]
        var firstTime: Int64
        var lastTime: Int64
        var firstPoint: [Double]
        var lastPoint: [Double]
    }

    func rows(_ client: PostgresClient, from source: String) async throws -> [String: Row] {
        var rows: [String: Row] = [:]
        let query = PostgresQuery(
            unsafeSQL: "select series_id, bucket, counts, sums, mins, maxs, firsts, lasts, increases, first_ts, last_ts, first_point, last_point from \(source)"
        )
        for try await r in try await client.query(query).decode(
            (Int64, Int64, [Int32], [Double], [Double], [Double], [Double], [Double], [Double], Int64, Int64, [Double], [Double]).self)
        {
            rows["\(r.0)/\(r.1)"] = Row(
                counts: r.2, sums: r.3, mins: r.4, maxs: r.5, firsts: r.6, lasts: r.7, increases: r.8, firstTime: r.9, lastTime: r.10, firstPoint: r.11,
                lastPoint: r.12
            )
        }
        return rows
    }

    func close(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($0), abs($1)) }
    }

    /// Seeds 1–3, or `SLUICE_ROLLUP_SEEDS` as `first-last` (`scripts/rollup-differential`).
    static let seeds: [UInt64] = {
        let bounds = (ProcessInfo.processInfo.environment["SLUICE_ROLLUP_SEEDS"] ?? "").split(separator: "-").compactMap { UInt64($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else { return [1, 2, 3] }
        return Array(bounds[0]...bounds[1])
    }()

    @Test(arguments: Self.seeds)
    func tiersEqualTheRawRowsAfterLateOutOfOrderAndDuplicateData(seed: UInt64) async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let store = BatchStore(client: client, consumerGroup: "g")
            var generator = SeededGenerator(seed: seed)
            let base: Int64 = 1_700_000_000 * 1_000_000_000 / (3600 * 1_000_000_000) * 3600 * 1_000_000_000
            // Three series over three hours; points every ~20 s with jitter; sent in shuffled batches.
            var all: [Measurement] = []
            for tag in ["r-a", "r-b", "r-c"] {
                var counter = 0.0
                for step in 0..<540 {
                    counter =
                        Int.random(in: 0..<20, using: &generator) == 0
                        ? Double.random(in: 0..<5, using: &generator) : counter + Double.random(in: 0...3, using: &generator)
                    let width = Int.random(in: 0..<6, using: &generator) == 0 ? 1 : 3
                    let values = [counter, Double.random(in: -100...100, using: &generator), Double(step)].prefix(width)
                    all.append(
                        Measurement(
                            tag: tag, time: base + Int64(step) * 20_000_000_000 + Int64.random(in: 0..<1_000_000, using: &generator), values: Array(values)))
                }
            }
            // Mostly in order (a rolling window shuffled), a tail of stragglers from anywhere, and duplicates.
            var ordered = all.sorted { $0.time < $1.time }
            var batches: [[Measurement]] = []
            var stragglers: [Measurement] = []
            var carried: [Measurement] = []
            while !ordered.isEmpty {
                let take = min(ordered.count, Int.random(in: 20...80, using: &generator))
                var batch = (carried + ordered.prefix(take)).shuffled(using: &generator)
                ordered.removeFirst(take)
                carried = []
                if Int.random(in: 0..<3, using: &generator) == 0, let late = batch.popLast() { stragglers.append(late) }
                // A few points a batch late: placed between their neighbours in the writer's memory.
                for _ in 0..<Int.random(in: 0...3, using: &generator) where batch.count > 1 { carried.append(batch.removeLast()) }
                batches.append(batch)
            }
            batches.append(carried)
            // The last stragglers come with redeliveries of stored points carrying other values (the stored
            // ones win), in one batch: new and already-stored rows mixed.
            #expect(stragglers.count > 3)
            let lastStragglers = Array(stragglers.suffix(3))
            stragglers.removeLast(lastStragglers.count)
            for batch in batches { _ = try await store.store(batch, nextOffsets: [:], logger: logger) }
            _ = try await store.store(stragglers.shuffled(using: &generator), nextOffsets: [:], logger: logger)
            let stored = Set(lastStragglers.map { "\($0.tag)/\($0.time)" })
            let duplicates = all.shuffled(using: &generator).filter { !stored.contains("\($0.tag)/\($0.time)") }.prefix(100)
                .map { Measurement(tag: $0.tag, time: $0.time, values: [-1]) }
            let mixed = (Array(duplicates) + lastStragglers).shuffled(using: &generator)
            #expect(try await store.store(mixed, nextOffsets: [:], logger: logger).inserted == lastStragglers.count)
            // A writer that starts over (another process, or after a rebalance) remembers nothing and still
            // closes what it is given exactly.
            store.forgetRollups()
            let tail = (0..<30).map { step in
                Measurement(tag: "r-a", time: base + (540 + Int64(step)) * 20_000_000_000, values: [Double(step), 0, 1])
            }
            _ = try await store.store(tail, nextOffsets: [:], logger: logger)

            // Exact before the refresher ran (marked minutes read raw) and after.
            let series = try await seriesIDs(client)
            let cached = cachedReader(client)
            try await expectReaderEqualsRawRows(client, series: series, cached: cached, generator: &generator, "before refreshing")
            let marked = try await marks(client)
            #expect(!marked.isEmpty)
            let refreshed = try await RollupRefresher(client: client).refreshAll(logger: logger)
            #expect(refreshed.minutes > 0 && refreshed.hours > 0, "\(refreshed)")
            try await expectReaderEqualsRawRows(client, series: series, cached: cached, generator: &generator, "after refreshing")
            // What is left waits for its hour to close: the newest hour of a series, which has no row yet.
            for mark in try await marks(client) {
                #expect(mark.first >= base + 2 * 3_600_000_000_000, "\(mark)")
            }
            try await createExpectedTiers(client)
            try await expectTiersEqualExpected(client, "the writer's and refresher's", skipping: try await marks(client))
            // `sluice-admin rollups rebuild` folds the rows again, as the writer would have.
            let rebuilt = try await RollupRebuild.rebuild(client, logger: logger)
            #expect(rebuilt.map(\.rows).allSatisfy { $0 > 0 })
            #expect(try await marks(client).isEmpty)
            try await expectTiersEqualExpected(client, "rebuilt")
            try await expectReaderEqualsRawRows(client, series: series, cached: cached, generator: &generator, "after rebuilding")
        }
    }

    struct Mark: CustomStringConvertible {
        var series: Int64
        var first: Int64
        var last: Int64
        var reason: String
        var description: String { "\(reason) \(series) \(first)…\(last)" }
    }

    func marks(_ client: PostgresClient) async throws -> [Mark] {
        var marks: [Mark] = []
        for try await (series, first, last, reason) in try await client.query("select series_id, first_bucket, last_bucket, reason from rollup_marks")
            .decode((Int64, Int64, Int64, String).self)
        {
            marks.append(Mark(series: series, first: first, last: last, reason: reason))
        }
        return marks
    }

    func seriesIDs(_ client: PostgresClient) async throws -> [Int64] {
        var ids: [Int64] = []
        for try await id in try await client.query("select id from series order by id").decode(Int64.self) { ids.append(id) }
        return ids
    }

    /// `/api`'s reader (tiers, marks and raw rows in one snapshot) against the raw rows alone, folded the
    /// same way, for every series over windows at random instants and every tier's step: without caches,
    /// and `cached` (`cachedReader`), which a test keeps from one call to the next while the writer, the
    /// refresher and rebuilds change the rows it holds. Each window is also read clipped at random
    /// instants inside its first and last buckets (as a KairosDB query's start and end clip its ranges).
    func expectReaderEqualsRawRows(
        _ client: PostgresClient, series: [Int64], cached: AggregateReader, generator: inout SeededGenerator, _ when: String
    ) async throws {
        // The uncached reader reads raw rows 97 to a statement, to cross many statements' boundaries.
        let readers = [("uncached", AggregateReader(client: client, rawRowsPerStatement: 97)), ("cached", cached)]
        let minute: Int64 = 60_000_000_000
        for id in series {
            var points: [(time: Int64, values: [Double])] = []
            for try await row in try await client.query("select ts, vals from measurements where series_id = \(id) order by ts").decode((Int64, [Double]).self)
            {
                points.append(row)
            }
            guard let first = points.first?.time, let last = points.last?.time else { continue }
            // A step no tier divides: every bucket from the raw rows alone.
            let rawGrid = BucketGrid(start: first - 7_000_000_000, end: last + 1, step: 7_000_000_000)
            var rawWanted = BucketAggregator(grid: rawGrid, blockSteps: RollupTier.all.map(\.step))
            for point in points { rawWanted.add(time: point.time, values: point.values) }
            for (name, reader) in readers {
                let got = try await reader.states(seriesID: id, grid: rawGrid, logger: logger)
                #expect(got.tier == nil)
                #expect(zip(got.states, rawWanted.states).allSatisfy { same($0, $1) }, "\(when), \(name): series \(id) at a 7 s step")
            }
            for (step, span) in [(minute, 90 * minute), (5 * minute, 200 * minute), (60 * minute, 240 * minute), (1440 * minute, 2880 * minute)] {
                for _ in 0..<3 {
                    let start = Int64.random(in: (first - 30 * minute)...(last - minute), using: &generator)
                    let grid = BucketGrid(start: start, end: start + Int64.random(in: minute...span, using: &generator), step: step)
                    var whole = BucketAggregator(grid: grid, blockSteps: RollupTier.all.map(\.step))
                    var inside = BucketAggregator(grid: grid, blockSteps: RollupTier.all.map(\.step))
                    for point in points {
                        whole.add(time: point.time, values: point.values)
                        if grid.index(of: point.time) != nil { inside.add(time: point.time, values: point.values) }
                    }
                    let (insideStates, wanted) = (inside.states, whole.values(of: .rate))
                    // On the grid a third of the time, else anywhere in the first and last buckets.
                    func offset() -> Int64 { Int.random(in: 0..<3, using: &generator) == 0 ? 0 : Int64.random(in: 0..<step, using: &generator) }
                    let clippedFrom = grid.first + offset()
                    let clipped = clippedFrom..<max(clippedFrom + 1, grid.end - offset())
                    var clippedAggregator = BucketAggregator(grid: grid, blockSteps: RollupTier.all.map(\.step))
                    for point in points where clipped.contains(point.time) { clippedAggregator.add(time: point.time, values: point.values) }
                    let clippedStates = clippedAggregator.states
                    for (name, reader) in readers {
                        let gotClipped = try await reader.states(seriesID: id, grid: grid, within: clipped, logger: logger)
                        #expect(gotClipped.tier != nil)
                        for (index, (have, want)) in zip(gotClipped.states, clippedStates).enumerated() {
                            #expect(
                                same(have, want),
                                "\(when), \(name): series \(id) step \(step) clipped to \(clipped) bucket \(index): \(String(describing: have)) vs \(String(describing: want))"
                            )
                        }
                        let got = try await reader.states(seriesID: id, grid: grid, logger: logger)
                        #expect(got.tier != nil)
                        for (index, (have, want)) in zip(got.states, insideStates).enumerated() {
                            #expect(
                                same(have, want),
                                "\(when), \(name): series \(id) step \(step) bucket \(index): \(String(describing: have)) vs \(String(describing: want))")
                        }
                        let rates = try await reader.buckets(seriesID: id, grid: grid, function: .rate, logger: logger).values
                        for (have, want) in zip(rates, wanted) {
                            #expect(
                                have?.count == want?.count && zip(have ?? [], want ?? []).allSatisfy { close([$0 ?? .nan], [$1 ?? .nan]) },
                                "\(when), \(name): rate, series \(id) step \(step)")
                        }
                    }
                }
            }
        }
    }

    /// A reader with both of `/api`'s caches, room for everything, reading raw rows 89 to a statement.
    func cachedReader(_ client: PostgresClient) -> AggregateReader {
        AggregateReader(
            client: client, cache: TierStateCache(maximumBytes: 1 << 30), rawMinutes: RawMinuteCache(maximumBytes: 1 << 30), rawRowsPerStatement: 89)
    }

    func same(_ a: BucketState?, _ b: BucketState?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.counts == b.counts && a.minimums == b.minimums && a.maximums == b.maximums && a.firsts == b.firsts && a.lasts == b.lasts
            && a.firstTime == b.firstTime && a.lastTime == b.lastTime && a.firstPoint == b.firstPoint && a.lastPoint == b.lastPoint
            && close(a.sums, b.sums) && close(a.increases, b.increases)
    }

    /// - Parameter skipping: rows inside these marks wait for the refresher, and are left out.
    func expectTiersEqualExpected(_ client: PostgresClient, _ whose: String, skipping marks: [Mark] = []) async throws {
        for (table, step) in [("rollups_1m", RollupTier.minute.step), ("rollups_1h", RollupTier.hour.step)] {
            func waiting(_ key: String) -> Bool {
                let parts = key.split(separator: "/").compactMap { Int64($0) }
                return marks.contains { $0.series == parts[0] && $0.first < parts[1] + step && parts[1] <= $0.last }
            }
            let kept = try await rows(client, from: table).filter { !waiting($0.key) }
            let expected = try await rows(client, from: "expected_\(table)").filter { !waiting($0.key) }
            #expect(kept.count == expected.count && !kept.isEmpty, "\(whose) \(table): \(kept.count) rows, expected \(expected.count)")
            for (key, want) in expected {
                guard let got = kept[key] else {
                    Issue.record("\(whose) \(table) lacks bucket \(key)")
                    continue
                }
                #expect(got.counts == want.counts && got.mins == want.mins && got.maxs == want.maxs, "\(whose) \(table) \(key)")
                #expect(got.firsts == want.firsts && got.lasts == want.lasts, "\(whose) \(table) \(key)")
                #expect(got.firstPoint == want.firstPoint && got.lastPoint == want.lastPoint, "\(whose) \(table) \(key)")
                #expect(got.firstTime == want.firstTime && got.lastTime == want.lastTime, "\(whose) \(table) \(key)")
                #expect(close(got.sums, want.sums) && close(got.increases, want.increases), "\(whose) \(table) \(key): \(got.increases) vs \(want.increases)")
            }
        }
    }

    /// A counter, a gauge and a step number every `every` ns from `start`, with a counter reset now and then.
    func points(tag: String, from start: Int64, count: Int, every: Int64, generator: inout SeededGenerator) -> [Measurement] {
        var counter = 0.0
        return (0..<count).map { step in
            counter = Int.random(in: 0..<25, using: &generator) == 0 ? 1 : counter + Double.random(in: 0...3, using: &generator)
            return Measurement(tag: tag, time: start + Int64(step) * every, values: [counter, Double.random(in: -50...50, using: &generator), Double(step)])
        }
    }

    /// `SLUICE_ROLLUPS=off` folds nothing, but marks points for minutes that have tier rows, and `/api`
    /// reads raw rows past the tiers; on again, the writer marks what it did not fold and the refresher
    /// rebuilds it. Every answer along the way is the raw rows' answer.
    @Test func rollupsOffThenOnStayExactAndAreRebuilt() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            var generator = SeededGenerator(seed: 11)
            let hour: Int64 = 3_600_000_000_000
            let base: Int64 = 1_700_000_000 * 1_000_000_000 / hour * hour
            let all = ["o-a", "o-b"].map { points(tag: $0, from: base, count: 720, every: 15_000_000_000, generator: &generator) }
            func batches(_ range: Range<Int>) -> [[Measurement]] {
                let slice = all.flatMap { $0[range] }.sorted { $0.time < $1.time }
                return stride(from: 0, to: slice.count, by: 40).map { Array(slice[$0..<min($0 + 40, slice.count)]) }
            }
            // 0–1 h on, 1–2 h off (with points late into minutes the tiers hold), 2–3 h on again.
            let on = BatchStore(client: client, consumerGroup: "g")
            for batch in batches(0..<240) { _ = try await on.store(batch, nextOffsets: [:], logger: logger) }
            let off = BatchStore(client: client, consumerGroup: "g", foldsRollups: false)
            for batch in batches(240..<480) { _ = try await off.store(batch, nextOffsets: [:], logger: logger) }
            let late = [
                Measurement(tag: "o-a", time: base + 600_000_000_001, values: [0.5, 0, 0]),
                Measurement(tag: "o-b", time: base + 1_200_000_000_001, values: [99, 1, 1]),
            ]
            _ = try await off.store(late, nextOffsets: [:], logger: logger)
            #expect(try await marks(client).filter { $0.reason == "late" }.count == 2)
            let series = try await seriesIDs(client)
            let cached = cachedReader(client)
            try await expectReaderEqualsRawRows(client, series: series, cached: cached, generator: &generator, "rollups off")
            let again = BatchStore(client: client, consumerGroup: "g")
            for batch in batches(480..<720) { _ = try await again.store(batch, nextOffsets: [:], logger: logger) }
            #expect(try await marks(client).contains { $0.reason == "unseen" && $0.first <= base + hour + 60_000_000_000 })
            try await expectReaderEqualsRawRows(client, series: series, cached: cached, generator: &generator, "on again")
            _ = try await RollupRefresher(client: client).refreshAll(logger: logger)
            try await expectReaderEqualsRawRows(client, series: series, cached: cached, generator: &generator, "refreshed")
            try await createExpectedTiers(client)
            try await expectTiersEqualExpected(client, "after off and on", skipping: try await marks(client))
        }
    }

    /// The refresher takes and deletes marks while the writer adds more for the same minutes: none is
    /// lost, so once both are done the tiers equal the raw rows.
    @Test func marksSurviveAConcurrentWriter() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            var generator = SeededGenerator(seed: 12)
            let hour: Int64 = 3_600_000_000_000
            let base: Int64 = 1_700_000_000 * 1_000_000_000 / hour * hour
            let all = ["c-a", "c-b", "c-c"].flatMap { points(tag: $0, from: base, count: 900, every: 10_000_000_000, generator: &generator) }
            // Two hours in order, so the first hour is closed; then the rest of the points as late data,
            // shuffled, in small batches, while a refresher works.
            let store = BatchStore(client: client, consumerGroup: "g")
            let inOrder = all.filter { $0.time % 20_000_000_000 == 0 }.sorted { $0.time < $1.time }
            for start in stride(from: 0, to: inOrder.count, by: 50) {
                _ = try await store.store(Array(inOrder[start..<min(start + 50, inOrder.count)]), nextOffsets: [:], logger: logger)
            }
            let late = all.filter { $0.time % 20_000_000_000 != 0 }.shuffled(using: &generator)
            let refresher = RollupRefresher(client: client, marksPerRound: 3)
            let logger = self.logger
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for start in stride(from: 0, to: late.count, by: 25) {
                        _ = try await store.store(Array(late[start..<min(start + 25, late.count)]), nextOffsets: [:], logger: logger)
                    }
                }
                group.addTask {
                    for _ in 0..<300 { _ = try await refresher.round(logger: logger) }
                }
                try await group.waitForAll()
            }
            let series = try await seriesIDs(client)
            let cached = cachedReader(client)
            try await expectReaderEqualsRawRows(client, series: series, cached: cached, generator: &generator, "while marked")
            _ = try await RollupRefresher(client: client).refreshAll(logger: logger)
            try await expectReaderEqualsRawRows(client, series: series, cached: cached, generator: &generator, "refreshed")
            try await createExpectedTiers(client)
            try await expectTiersEqualExpected(client, "concurrent", skipping: try await marks(client))
        }
    }

    /// Tiers kept before migration 8 counted each row's first point against the point before the row;
    /// the migration takes that term out and records the first point, so the rows equal what the writer
    /// keeps now.
    @Test func migrationEightMakesStoredTierRowsSelfContained() async throws {
        try await TestDatabase.with { _, client in
            let migrator = SchemaMigrator(partitionCount: 2)
            try await migrator.migrate(client, logger: logger, through: 7)
            // Two series over two hours, ragged, with counter resets, written as an old writer would have
            // kept them: rows, then tiers by the old rules (migration 6's backfill).
            var generator = SeededGenerator(seed: 8)
            let base: Int64 = 1_700_000_000 * 1_000_000_000 / 3_600_000_000_000 * 3_600_000_000_000
            for tag in ["m-a", "m-b"] {
                try await client.query("insert into series (tag, domain) values (\(tag), 'default')")
                var counter = 0.0
                var times: [Int64] = []
                var values: [String] = []
                for step in 0..<400 {
                    counter = Int.random(in: 0..<15, using: &generator) == 0 ? 1 : counter + Double(Int.random(in: 0...4, using: &generator))
                    let width = Int.random(in: 0..<5, using: &generator) == 0 ? 1 : 2
                    times.append(base + Int64(step) * 20_000_000_000)
                    values.append("{" + [counter, Double(step)].prefix(width).map { "\($0)" }.joined(separator: ",") + "}")
                }
                try await client.query(
                    """
                    insert into measurements (series_id, ts, vals)
                    select (select id from series where tag = \(tag)), t, v::float8[] from unnest(\(times)::bigint[], \(values)::text[]) as u(t, v)
                    """
                )
            }
            for tier in RollupTier.all {
                try await client.query(PostgresQuery(unsafeSQL: SchemaMigrator.rollupBackfill(table: tier.table, step: tier.step)))
            }
            #expect(try await migrator.migrate(client, logger: logger) == Array(8...SchemaMigrator.latestVersion))
            try await createExpectedTiers(client)
            try await expectTiersEqualExpected(client, "migrated")
        }
    }

    /// The tiers by the current rules, from the raw rows, in one statement per tier: a bucket's increase
    /// counts each point against the one before it in the bucket; only closed buckets
    /// (`RollupTier.closingGrace`) have rows.
    func createExpectedTiers(_ client: PostgresClient) async throws {
        for tier in RollupTier.all {
            try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        create table expected_\(tier.table) as
                        with points as (
                            select series_id, ts - ts % \(tier.step) as bucket, ts, vals,
                                   lag(vals) over (partition by series_id, ts - ts % \(tier.step) order by ts) as prev
                            from measurements
                        ), cells as (
                            select p.series_id, p.bucket, u.i, count(*)::int as n, sum(u.v) as s, min(u.v) as lo, max(u.v) as hi,
                                   (array_agg(u.v order by p.ts))[1] as f, (array_agg(u.v order by p.ts desc))[1] as l,
                                   sum(case when p.prev is null or u.i > cardinality(p.prev) then 0
                                            when u.v >= p.prev[u.i] then u.v - p.prev[u.i] else u.v end) as inc
                            from points p cross join lateral unnest(p.vals) with ordinality as u(v, i)
                            group by 1, 2, 3
                        ), bounds as (
                            select series_id, bucket, min(ts) as first_ts, max(ts) as last_ts from points group by 1, 2
                        ), closed as (
                            select series_id, (max(ts) - \(RollupTier.closingGrace)) - (max(ts) - \(RollupTier.closingGrace)) % 60000000000 as before
                            from measurements group by 1
                        )
                        select c.series_id, c.bucket, array_agg(c.n order by c.i) as counts, array_agg(c.s order by c.i) as sums,
                               array_agg(c.lo order by c.i) as mins, array_agg(c.hi order by c.i) as maxs, array_agg(c.f order by c.i) as firsts,
                               array_agg(c.l order by c.i) as lasts, array_agg(c.inc order by c.i) as increases,
                               b.first_ts, b.last_ts, f.vals as first_point, l.vals as last_point
                        from cells c
                        join bounds b on b.series_id = c.series_id and b.bucket = c.bucket
                        join closed d on d.series_id = c.series_id and c.bucket + \(tier.step) <= d.before
                        join measurements f on f.series_id = b.series_id and f.ts = b.first_ts
                        join measurements l on l.series_id = b.series_id and l.ts = b.last_ts
                        group by c.series_id, c.bucket, b.first_ts, b.last_ts, f.vals, l.vals
                        """
                )
            )
        }
    }

    /// The latest time Sluice stores, and the minutes and hours around it, roll up without overflowing.
    @Test func theLatestTimesRollUp() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let store = BatchStore(client: client, consumerGroup: "g")
            let latest = MeasurementLimits.latestTime
            let times = [latest - 3_700_000_000_000, latest - 61_000_000_000, latest - 7_000_000_000, latest]
            for time in times { _ = try await store.store([Measurement(tag: "edge", time: time, values: [1])], nextOffsets: [:], logger: logger) }
            _ = try await store.store([Measurement(tag: "edge", time: latest - 30_000_000_000, values: [2])], nextOffsets: [:], logger: logger)
            var minutes = 0
            for try await count in try await client.query("select count(*) from rollups_1m").decode(Int.self) { minutes = count }
            #expect(minutes >= 2)
        }
    }
}
