import Foundation
import Logging
import PostgresNIO
import SluiceStorage
import SluiceTestSupport
import Testing

/// Time partitions against PostgreSQL's own catalog: made ahead, dropped whole past retention, rows
/// outside the slots caught and moved, the table as it was before time partitions kept until it expires.
@Suite(.timeLimit(.minutes(2)))
struct PartitionKeeperTests {
    let logger = Logger(label: "partition-test")
    let day: Int64 = 86_400_000_000_000
    let now = Int64(Date().timeIntervalSince1970 * 1e9)
    let raw = TimePartitionedTable.raw

    func partitions(_ client: PostgresClient, _ table: String) async throws -> [PartitionKeeper.Partition] {
        try await client.withConnection { try await PartitionKeeper.partitions(of: table, connection: $0, logger: logger) }
    }

    /// Bounds cover every time once: `_before` from minvalue, slots end to end, `_after` to maxvalue.
    func expectContiguous(_ partitions: [PartitionKeeper.Partition], _ table: TimePartitionedTable) {
        #expect(partitions.first?.name == table.beforeName && partitions.first?.low == nil)
        #expect(partitions.last?.name == table.afterName && partitions.last?.high == nil)
        for (lower, upper) in zip(partitions, partitions.dropFirst()) {
            #expect(lower.high != nil && lower.high == upper.low, "\(lower.name) ends where \(upper.name) begins")
        }
        for slot in partitions.dropFirst().dropLast() {
            #expect(slot.name == table.slotName(start: slot.low ?? 0))
        }
    }

    @Test func aNewInstallGetsSlotsFromItsRetentionToTwoDaysAhead() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 3).migrate(client, logger: logger)
            let retention = Retention(periods: ["raw": 3 * day, "1m": 14 * day])
            let reports = await PartitionKeeper(retention: retention).maintain(client, now: now, logger: logger)

            let measurements = try await partitions(client, "measurements")
            expectContiguous(measurements, raw)
            let slots = measurements.dropFirst().dropLast().compactMap(\.low)
            #expect(slots.first == raw.slotStart(of: now - 3 * day))
            #expect(slots.last == raw.slotStart(of: now) + PartitionKeeper.slotsAhead * day)
            #expect(slots.count == 6)
            #expect(reports["raw"]?.created.count == 6)
            #expect(reports["raw"]?.oldestKept == raw.slotStart(of: now - 3 * day))
            // Each day is hash-partitioned like the table was.
            let todaySlot = raw.slotName(start: raw.slotStart(of: now))
            #expect(try await client.count("select count(*)::int from pg_inherits where inhparent = '\(todaySlot)'::regclass") == 3)

            let minutes = try await partitions(client, "rollups_1m")
            expectContiguous(minutes, .minute)
            #expect(minutes.dropFirst().first?.low == TimePartitionedTable.minute.slotStart(of: now - 14 * day))
            // Kept forever: slots from now's, nothing made below it.
            let hours = try await partitions(client, "rollups_1h")
            expectContiguous(hours, .hour)
            #expect(hours.dropFirst().first?.low == TimePartitionedTable.hour.slotStart(of: now))

            // A second round has nothing to do.
            let again = await PartitionKeeper(retention: retention).maintain(client, now: now, logger: logger)
            #expect(again.values.allSatisfy { $0.created.isEmpty && $0.dropped.isEmpty })
            #expect(try await partitions(client, "measurements") == measurements)
        }
    }

    @Test func slotsPastRetentionAreDroppedWholeAndRowsOutsideTheSlotsAreKept() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let keeper = PartitionKeeper(retention: Retention(periods: ["raw": 3 * day, "1m": 3 * day]))
            _ = await keeper.maintain(client, now: now, logger: logger)
            let today = raw.slotStart(of: now)
            let old = today - 2 * day
            try await client.query(
                """
                insert into measurements (series_id, ts, vals) values
                    (1, \(old + 3_600_000_000_000), '{1}'), (1, \(today + 1), '{2}'),
                    (1, \(now + 30 * day), '{3}'), (1, \(now - 30 * day), '{4}')
                """
            )
            // Far ahead and long past land in the catch-alls.
            #expect(try await client.count("select count(*)::int from measurements_after") == 1)
            #expect(try await client.count("select count(*)::int from measurements_before") == 1)
            let oldSlot = try #require(try await partitions(client, "measurements").first { $0.low == old })

            // Two days later the oldest day with a row is past 3 days: dropped as a table, not emptied.
            let later = now + 2 * day
            let report = await keeper.maintain(client, now: later, logger: logger)
            #expect(report["raw"]?.dropped.contains(oldSlot.name) == true)
            #expect(report["raw"]?.dropped.contains("measurements_before") == true)
            #expect(try await client.count("select count(*)::int from pg_class where relname = '\(oldSlot.name)'") == 0)
            #expect(try await client.count("select count(*)::int from measurements where ts < \(today)") == 0)
            #expect(try await client.count("select count(*)::int from measurements where ts >= \(today)") == 2)
            let afterDrop = try await partitions(client, "measurements")
            expectContiguous(afterDrop, raw)
            #expect(afterDrop.dropFirst().first?.low == raw.slotStart(of: later - 3 * day))

            // When the far-future row's day comes within two days, its slot is made and the row moved into it.
            let farLater = now + 29 * day
            let ahead = await keeper.maintain(client, now: farLater, logger: logger)
            #expect(ahead["raw"]?.movedRows == 1)
            #expect(try await client.count("select count(*)::int from measurements_after") == 0)
            let home = raw.slotName(start: raw.slotStart(of: now + 30 * day))
            #expect(try await client.count("select count(*)::int from \(home)") == 1)
            // Slots wholly past retention by then were never made: one gap partition stood for them, and the
            // next round drops it.
            expectContiguous(try await partitions(client, "measurements"), raw)
            _ = await keeper.maintain(client, now: farLater, logger: logger)
            let settled = try await partitions(client, "measurements")
            expectContiguous(settled, raw)
            #expect(settled.count == 2 + 6)
        }
    }

    /// A round detaches expired slots and drops them after it commits; a slot left detached (a round that
    /// stopped in between) is dropped by the next round, with its hash partitions, and nothing else is.
    @Test func aSlotLeftDetachedIsDroppedByTheNextRound() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let keeper = PartitionKeeper(retention: Retention(periods: ["raw": 3 * day, "1m": 14 * day]))
            _ = await keeper.maintain(client, now: now, logger: logger)
            let attached = try await partitions(client, "measurements")
            try await client.query("create table measurements_20200101 (like measurements) partition by hash (series_id)")
            try await client.query("create table measurements_20200101_0 partition of measurements_20200101 for values with (modulus 1, remainder 0)")
            try await client.query("create table rollups_1m_20200101 (like rollups_1m)")
            try await client.query("create table measurements_keep (like measurements)")
            _ = await keeper.maintain(client, now: now, logger: logger)
            for name in ["measurements_20200101", "measurements_20200101_0", "rollups_1m_20200101"] {
                #expect(try await client.count("select count(*)::int from pg_class where relname = '\(name)'") == 0, "\(name) dropped")
            }
            #expect(try await client.count("select count(*)::int from pg_class where relname = 'measurements_keep'") == 1, "not a slot's name")
            #expect(try await partitions(client, "measurements") == attached)
        }
    }

    @Test func theTableAsItWasStaysWholeUntilItExpires() async throws {
        try await TestDatabase.with { _, client in
            let migrator = SchemaMigrator(partitionCount: 2)
            try await migrator.migrate(client, logger: logger, through: 6)
            try await client.query("insert into series (domain, tag) values ('d', 'old')")
            try await client.query(
                "insert into measurements (series_id, ts, vals) select 1, \(now) - g * 3600000000000, array[g::float8] from generate_series(0, 239) g"
            )
            try await client.query("insert into measurements (series_id, ts, vals) values (1, \(now + 100 * day), '{-1}')")
            try await migrator.migrate(client, logger: logger)
            #expect(try await client.count("select count(*)::int from measurements") == 241)
            #expect(try await client.count("select count(*)::int from measurements_after") == 1)
            #expect(try await client.count("select count(*)::int from pg_inherits where inhparent = 'measurements_before'::regclass") == 2)

            let keeper = PartitionKeeper(retention: Retention(periods: ["raw": 7 * day, "1m": 7 * day]))
            let first = await keeper.maintain(client, now: now, logger: logger)
            #expect(first["raw"]?.dropped == [])
            #expect(first["raw"]?.oldestKept == nil)
            let kept = try await partitions(client, "measurements")
            expectContiguous(kept, raw)
            #expect(kept.first?.high == raw.slotStart(of: now) + day)
            #expect(try await client.count("select count(*)::int from measurements") == 241)

            // Once all of it is past retention it goes in one drop; an empty `_before` takes its place.
            let report = await keeper.maintain(client, now: now + 9 * day, logger: logger)
            #expect(report["raw"]?.dropped.first == "measurements_before")
            #expect(try await client.count("select count(*)::int from measurements") == 1)
            expectContiguous(try await partitions(client, "measurements"), raw)
        }
    }

    /// `SLUICE_PARTITION_PERIOD_RAW` shorter than a day, then changed twice on a running system: every
    /// round succeeds, the bounds stay end to end, no row moves or goes missing, and expiry drops the short
    /// slots whole (their detached tables gone too).
    @Test func shortPeriodsAndChangedPeriodsKeepEveryTimeCoveredOnce() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let hour: Int64 = 3_600_000_000_000
            let retention = Retention(periods: ["raw": 3 * day, "1m": 14 * day])
            func round(_ at: Int64, rawPeriod: Int64) async throws -> [String: PartitionKeeper.Report] {
                let periods = PartitionPeriods(widths: ["raw": rawPeriod, "1m": 7 * day, "1h": 30 * day])
                let reports = await PartitionKeeper(retention: retention, periods: periods).maintain(client, now: at, logger: logger)
                #expect(Set(reports.keys) == ["raw", "1m", "1h"], "every table's round succeeded")
                let measurements = try await partitions(client, "measurements")
                expectContiguous(measurements, raw)
                let slots = measurements.dropFirst().dropLast()
                #expect(slots.allSatisfy { ($0.high ?? 0) - ($0.low ?? 0) <= max(rawPeriod, day) })
                #expect(slots.contains { ($0.low ?? .max) <= at && at < ($0.high ?? .min) }, "now has a slot")
                #expect(slots.last.flatMap(\.high).map { $0 >= at + 2 * rawPeriod } == true, "two periods made ahead")
                return reports
            }

            let first = try await round(now, rawPeriod: hour)
            let hourly = try await partitions(client, "measurements").dropFirst().dropLast().filter { ($0.high ?? 0) - ($0.low ?? 0) == hour }
            #expect(hourly.count >= 60, "an hour's slots back toward the retention: \(hourly.count)")
            #expect(hourly.contains { $0.name.hasSuffix("_010000") })
            #expect(first["raw"]?.created.count == (try await partitions(client, "measurements")).count - 2)
            try await client.query(
                "insert into measurements (series_id, ts, vals) select 1, \(now) - g * 600000000000, array[g::float8] from generate_series(0, 143) g"
            )

            _ = try await round(now + 5 * hour, rawPeriod: 7 * hour)
            _ = try await round(now + 2 * day, rawPeriod: day)
            #expect(try await client.count("select count(*)::int from measurements") == 144)
            #expect(try await client.count("select count(*)::int from measurements_before") == 0)

            // Past retention the hourly slots go whole, and so do their detached tables.
            let late = try await round(now + 5 * day, rawPeriod: day)
            let dropped = late["raw"]?.dropped ?? []
            #expect(dropped.contains { $0.hasSuffix("_010000") }, "\(dropped)")
            let names = dropped.filter { $0 != raw.beforeName }.map { "'\($0)'" }.joined(separator: ",")
            #expect(try await client.count("select count(*)::int from pg_class where relname in (\(names))") == 0)
            #expect(try await client.count("select count(*)::int from measurements where ts < \(now + 2 * day)") == 0)
        }
    }

    /// A new install with a period of seconds: migration 7 leaves `_after` starting at the next day, so the
    /// first round moves it down, and now's rows land in slots of the period, not in `_before`.
    @Test func aNewInstallWithAPeriodOfSecondsGetsSlotsAroundNow() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let second: Int64 = 1_000_000_000
            let periods = PartitionPeriods(widths: ["raw": 5 * second, "1m": 7 * day, "1h": 30 * day])
            let keeper = PartitionKeeper(retention: .defaults, periods: periods)
            let report = await keeper.maintain(client, now: now, logger: logger)
            let measurements = try await partitions(client, "measurements")
            expectContiguous(measurements, raw.withWidth(5 * second))
            let fiveSeconds = raw.withWidth(5 * second)
            #expect(measurements.last?.low == fiveSeconds.slotStart(of: now) + 15 * second, "_after begins two periods past now's slot")
            #expect(report["raw"]?.created.count == Int(PartitionKeeper.mostSlotsBack) + 1 + Int(PartitionKeeper.slotsAhead), "back, now's, ahead")
            try await client.query("insert into measurements (series_id, ts, vals) values (1, \(now), '{1}'), (1, \(now + 9 * second), '{2}')")
            #expect(try await client.count("select count(*)::int from measurements_before") == 0)
            #expect(try await client.count("select count(*)::int from measurements_after") == 0)
            #expect(try await client.count("select count(*)::int from \(fiveSeconds.slotName(start: fiveSeconds.slotStart(of: now)))") == 1)

            // A round 12 s later makes what is now two periods ahead and moves nothing.
            let next = await keeper.maintain(client, now: now + 12 * second, logger: logger)
            #expect((next["raw"]?.created.count ?? 0) >= 2 && next["raw"]?.movedRows == 0)
            expectContiguous(try await partitions(client, "measurements"), fiveSeconds)
        }
    }
}
