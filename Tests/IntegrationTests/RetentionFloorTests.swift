import Logging
import PostgresNIO
import Query
import SluiceModel
import SluiceTestSupport
import Testing
import Writer

import struct Foundation.Date

@testable import SluiceStorage

/// Tier rows outlive the raw rows they were folded from: once a day's raw partition is dropped, a mark
/// left in that day must not make the refresher, `sluice-admin rollups rebuild` or `/api`'s reader
/// replace the tier rows with what the (missing) raw rows say, which is nothing.
@Suite(.timeLimit(.minutes(2)))
struct RetentionFloorTests {
    let logger = Logger(label: "retention-floor-test")
    let day: Int64 = 86_400_000_000_000
    let hour: Int64 = 3_600_000_000_000
    let minute: Int64 = 60_000_000_000

    /// Every tier row, by tier, series and bucket, as text (equal text is equal rows).
    func tierRows(_ client: PostgresClient) async throws -> [String] {
        var rows: [String] = []
        for tier in RollupTier.all {
            let query = PostgresQuery(
                unsafeSQL:
                    "select format('%s %s %s %s %s %s %s', series_id, bucket, counts, sums, increases, first_point, last_point) from \(tier.table) order by series_id, bucket"
            )
            for try await row in try await client.query(query).decode(String.self) { rows.append("\(tier.name) \(row)") }
        }
        return rows
    }

    /// A schema whose raw rows are kept three days, its slots made now; `oldDay` starts two days back.
    func keptThreeDays(_ client: PostgresClient) async throws -> (keeper: PartitionKeeper, now: Int64, oldDay: Int64) {
        try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let keeper = PartitionKeeper(retention: Retention(periods: ["raw": 3 * day, "1m": 30 * day]))
        _ = await keeper.maintain(client, now: now, logger: logger)
        return (keeper, now, TimePartitionedTable.raw.slotStart(of: now - 2 * day))
    }

    @Test func tierRowsBelowTheRawFloorAreNeverRebuiltFromNothing() async throws {
        try await TestDatabase.with { _, client in
            let (keeper, now, oldDay) = try await keptThreeDays(client)
            // Three hours two days ago, then two hours from the next midnight on (closing the first three).
            let raw = TimePartitionedTable.raw
            let floor = oldDay + day
            var generator = SeededGenerator(seed: 7)
            var points: [Measurement] = []
            // Old points 7 s past every 20 s (three to a minute, none on its boundary), new ones every 30 s.
            for (start, count, every) in [(oldDay + hour + 7_000_000_000, 540, Int64(20_000_000_000)), (floor + 10 * minute, 240, 30_000_000_000)] {
                for step in 0..<count {
                    let values = [Double(step), Double.random(in: -5...5, using: &generator)]
                    points.append(Measurement(tag: "aged", time: start + Int64(step) * every, values: values))
                }
            }
            let store = BatchStore(client: client, consumerGroup: "g")
            for batch in stride(from: 0, to: points.count, by: 50).map({ Array(points[$0..<min($0 + 50, points.count)]) }) {
                _ = try await store.store(batch, nextOffsets: [:], logger: logger)
            }
            var series: Int64 = 0
            for try await id in try await client.query("select id from series where tag = 'aged'").decode(Int64.self) { series = id }
            // A mark inside the old day (a late point the refresher had not reached), and one across midnight.
            try await client.query(
                """
                insert into rollup_marks (series_id, first_bucket, last_bucket, reason) values
                    (\(series), \(oldDay + hour + 10 * minute), \(oldDay + hour + 12 * minute), 'late'),
                    (\(series), \(floor - 2 * minute), \(floor + 2 * minute), 'late')
                """
            )
            let reader = AggregateReader(client: client)
            let grid = BucketGrid(start: oldDay + hour, end: oldDay + 4 * hour, step: minute)
            let answered = try await reader.states(seriesID: series, grid: grid, logger: logger).states
            #expect(answered.count { $0 != nil } == 180)
            let before = try await tierRows(client)

            // Two days on, the old day is past the raw retention, but minutes in it wait for the refresher: it
            // is kept for them for a day at most. Here the refresher never comes, and the day goes after all.
            let waiting = await keeper.maintain(client, now: now + 2 * day, logger: logger)
            #expect(waiting["raw"]?.held == [raw.slotName(start: oldDay)])
            #expect(waiting["raw"]?.dropped.contains(raw.slotName(start: oldDay)) == false)
            #expect(try await client.withConnection { try await RetentionFloor.raw(on: $0, logger: logger) } == oldDay, "the days below it went")
            let impatient = PartitionKeeper(retention: keeper.retention, markGrace: 0)
            let report = await impatient.maintain(client, now: now + 2 * day, logger: logger)
            #expect(report["raw"]?.held == [])
            #expect(report["raw"]?.dropped.contains(raw.slotName(start: oldDay)) == true)
            let recorded = try await client.withConnection { try await RetentionFloor.raw(on: $0, logger: logger) }
            #expect(recorded == floor)
            #expect(try await client.count("select count(*)::int from measurements where ts < \(floor)") == 0)

            // The reader answers the old hours from the tier, mark or not.
            let afterDrop = try await reader.states(seriesID: series, grid: grid, logger: logger).states
            #expect(afterDrop.count == answered.count && zip(afterDrop, answered).allSatisfy { $0 == $1 }, "answered from the tier after the drop")

            // As-of samples past the raw floor answer from the tiers: exact where the minute decides it (no
            // point in it, or all at or before the instant), else the minute's first point, with its time.
            let sampler = AsOfSampler(client: client)
            let sampleGrid = SampleGrid(start: oldDay + hour - 5 * minute, end: floor + 40 * minute, count: 397)
            let sampled = try await sampler.samples(seriesID: series, grid: sampleGrid, logger: logger)
            #expect(sampled.count == 397)
            var decidedByMinute = 0
            for sample in sampled {
                let minuteStart = sample.time / minute * minute
                let inMinute = sample.time < floor ? points.filter { $0.time / minute * minute == minuteStart } : []
                let expected: Measurement?
                if let first = inMinute.first, let last = inMinute.last, first.time <= sample.time, last.time > sample.time {
                    expected = first
                } else {
                    expected = points.last { $0.time <= sample.time }
                    if !inMinute.isEmpty { decidedByMinute += 1 }
                }
                #expect(sample.measuredAt == expected?.time && sample.values == expected?.values, "at \(sample.time)")
            }
            #expect(decidedByMinute > 10, "the grid falls on both kinds of instants")

            // The refresher drops the mark below the floor and rebuilds the other from the floor on.
            let round = try await RollupRefresher(client: client).refreshAll(logger: logger)
            #expect(round.expired == 1)
            #expect(try await client.count("select count(*)::int from rollup_marks") == 0)
            #expect(try await tierRows(client) == before, "the refresher kept every tier row")

            // A rebuild of every series starts at the floor too.
            _ = try await RollupRebuild.rebuild(client, logger: logger)
            #expect(try await tierRows(client) == before, "the rebuild kept every tier row")
            let rebuilt = try await reader.states(seriesID: series, grid: grid, logger: logger).states
            #expect(rebuilt.count == answered.count && zip(rebuilt, answered).allSatisfy { $0 == $1 })
        }
    }

    /// A late point stored into a day just before the day expires reaches the tiers: the day is kept until
    /// the refresher has rebuilt the point's minute, and only then dropped.
    @Test func aLatePointInAnExpiringDayReachesTheTiersBeforeTheDayGoes() async throws {
        try await TestDatabase.with { _, client in
            let (keeper, now, oldDay) = try await keptThreeDays(client)
            let raw = TimePartitionedTable.raw
            // Two hours of the old day, a point every 20 s, then one the next day (closing both hours).
            var points = (0..<360).map { Measurement(tag: "late", time: oldDay + hour + 7_000_000_000 + Int64($0) * 20_000_000_000, values: [1, 2]) }
            points.append(Measurement(tag: "late", time: oldDay + day + hour, values: [1, 2]))
            let store = BatchStore(client: client, consumerGroup: "g")
            _ = try await store.store(points, nextOffsets: [:], logger: logger)
            // Into a minute the tiers already hold, as the day's retention nears its end.
            let lateMinute = oldDay + hour + 30 * minute
            _ = try await store.store([Measurement(tag: "late", time: lateMinute + 11_000_000_000, values: [1_000, 2])], nextOffsets: [:], logger: logger)
            #expect(try await client.count("select count(*)::int from rollup_marks where reason = 'late'") == 1)

            let held = await keeper.maintain(client, now: now + 2 * day, logger: logger)
            #expect(held["raw"]?.held == [raw.slotName(start: oldDay)])
            #expect(held["raw"]?.dropped.contains(raw.slotName(start: oldDay)) == false)
            #expect(try await client.count("select count(*)::int from measurements where ts < \(oldDay + day)") == 361)
            let round = try await RollupRefresher(client: client).refreshAll(logger: logger)
            #expect(round.minutes >= 1 && round.expired == 0)
            let dropped = await keeper.maintain(client, now: now + 2 * day, logger: logger)
            #expect(dropped["raw"]?.held == [])
            #expect(dropped["raw"]?.dropped.contains(raw.slotName(start: oldDay)) == true)
            #expect(try await client.count("select count(*)::int from measurements where ts < \(oldDay + day)") == 0)

            var series: Int64 = 0
            for try await id in try await client.query("select id from series where tag = 'late'").decode(Int64.self) { series = id }
            let reader = AggregateReader(client: client)
            let minutes = try await reader.states(seriesID: series, grid: BucketGrid(start: lateMinute, end: lateMinute + minute, step: minute), logger: logger)
            #expect(minutes.tier == .minute)
            #expect(minutes.states.first??.counts == [4, 4])
            #expect(minutes.states.first??.maximums == [1_000, 2])
            let hours = try await reader.states(seriesID: series, grid: BucketGrid(start: oldDay + hour, end: oldDay + 2 * hour, step: hour), logger: logger)
            #expect(hours.tier == .hour)
            #expect(hours.states.first??.counts == [181, 181])
        }
    }

    /// A late point marked between the round's look at the marks and its drop undoes the round: its day is
    /// not dropped, and the next round keeps it for the refresher.
    @Test func aMarkMadeWhileItsDayIsBeingDroppedKeepsTheDay() async throws {
        try await TestDatabase.with { _, client in
            let (keeper, now, oldDay) = try await keptThreeDays(client)
            let raw = TimePartitionedTable.raw
            try await client.query("insert into series (domain, tag) values ('d', 'racing')")
            try await client.query("insert into measurements (series_id, ts, vals) values (1, \(oldDay + hour), '{1}')")
            var racing = keeper
            racing.beforeExpiring = {
                try await client.query(
                    "insert into rollup_marks (series_id, first_bucket, last_bucket, reason) values (1, \(oldDay + hour), \(oldDay + hour), 'late')")
            }
            let undone = await racing.maintain(client, now: now + 2 * day, logger: logger)
            #expect(undone["raw"] == nil, "the raw round was undone")
            #expect(try await client.count("select count(*)::int from measurements where ts < \(oldDay + day)") == 1)
            #expect(try await client.withConnection { try await RetentionFloor.raw(on: $0, logger: logger) } == nil)
            let next = await keeper.maintain(client, now: now + 2 * day, logger: logger)
            #expect(next["raw"]?.held == [raw.slotName(start: oldDay)])
            #expect(next["raw"]?.dropped.contains(raw.slotName(start: oldDay)) == false)
        }
    }
}
