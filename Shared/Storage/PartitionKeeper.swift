import Logging
import PostgresNIO

/// Keeps each `TimePartitionedTable`'s slots: made `ahead` of time, dropped whole once past retention.
///
/// One round per table is one transaction under an advisory lock, so several writers can run it at once,
/// and with a lock timeout, so a round that would wait for a long query gives up and is tried again at the
/// next one instead of queueing every query behind it. Rows are never deleted to expire them: a slot goes
/// with `drop table`. The catch-alls make this safe to run late: an insert for a time with no slot lands in
/// `_before` or `_after`, and a round moves `_after`'s rows into the slots it makes.
public struct PartitionKeeper: Sendable {
    /// Slots are made this many periods ahead of now's slot.
    public static let slotsAhead: Int64 = 2
    /// Slots are made at most this many periods below now's (a new install with a long retention; rows
    /// older go to `_before`). Counted from now, not from the lowest slot, so later rounds do not walk on
    /// down toward the retention's start, a period at a time, under short periods.
    public static let mostSlotsBack: Int64 = 62
    /// Its own key: the refresher's (`RollupRefresher.lockKey`) was once this one's by accident, and the two
    /// need not wait for each other — drops and rebuilds meet at `RetentionFloor`'s lock instead.
    static let advisoryLockKey: Int64 = SchemaMigrator.advisoryLockKey + 3

    public struct Report: Sendable, Equatable {
        public var created: [String] = []
        public var dropped: [String] = []
        /// Rows moved from `_after` into slots made for them.
        public var movedRows = 0
        /// The start of the oldest slot when nothing is kept below it, else nil (rows in `_before` of unknown age).
        public var oldestKept: Int64?
        /// Raw slots past retention kept because minutes in them wait for the refresher.
        public var held: [String] = []
    }

    /// A partition and its bounds; nil is unbounded (`minvalue`/`maxvalue`).
    public struct Partition: Sendable, Equatable {
        public var name: String
        public var low: Int64?
        public var high: Int64?
    }

    /// How long past its retention a raw slot may be kept for minutes marked in it (`releasable`): long
    /// enough for a refresher that was down to catch up, short beside the default week kept.
    public static let defaultMarkGrace: Int64 = 86_400_000_000_000

    public let retention: Retention
    public let periods: PartitionPeriods
    public let markGrace: Int64
    /// Tests only: runs when a round has decided which raw slots expire, before it locks the table to drop
    /// them, as a concurrent writer's late point could (`MarkedWhileExpiring`).
    var beforeExpiring: (@Sendable () async throws -> Void)?

    public init(retention: Retention, periods: PartitionPeriods = .defaults, markGrace: Int64 = Self.defaultMarkGrace) {
        self.retention = retention
        self.periods = periods
        self.markGrace = markGrace
    }

    /// One round over every table.
    /// - Returns: per tier name, what the round did; a table whose round failed (lock timeout) is logged and left out.
    public func maintain(_ client: PostgresClient, now: Int64, logger: Logger) async -> [String: Report] {
        var reports: [String: Report] = [:]
        for table in periods.tables {
            do {
                reports[table.tier] = try await client.withTransaction(logger: logger) { connection in
                    try await maintain(table, connection: connection, now: now, logger: logger)
                }
                try await Self.dropDetached(table, client: client, logger: logger)
            } catch {
                logger.warning(
                    "partition maintenance failed; trying again next round",
                    metadata: ["table": "\(table.table)", "error": "\(String(reflecting: error))"]
                )
            }
        }
        return reports
    }

    func maintain(_ table: TimePartitionedTable, connection: PostgresConnection, now: Int64, logger: Logger) async throws -> Report {
        try await connection.query("set local lock_timeout = '5s'", logger: logger)
        try await connection.query("select pg_advisory_xact_lock(\(Self.advisoryLockKey))", logger: logger)
        var report = Report()
        var partitions = try await Self.partitions(of: table.table, connection: connection, logger: logger)
        guard let after = partitions.last, after.name == table.afterName, let afterLow = after.low else {
            throw PartitionLayoutError(table: table.table, found: partitions.map(\.name))
        }
        let cutoff = retention.cutoff(table, now: now)
        let hashCount = table.hashed ? try await Self.hashPartitionCount(connection, logger: logger) : 0
        let ddl = SlotStatements(table: table, hashCount: hashCount)

        // Everything is decided first and the new slots are made as tables of their own: dropping, detaching
        // and attaching lock the whole table (reads and writes wait), so only those come after, and the
        // lock is held for them alone rather than for making dozens of tables.

        // Past retention: whole partitions, oldest first, never `_after`. An empty `_before` is where the slots
        // begin, not data to expire: it goes only with a slot above it, and is made again below the new lowest.
        var before = partitions.first { $0.low == nil }
        var beforeIsEmpty = true
        if let before { beforeIsEmpty = try await Self.isEmpty(before.name, connection: connection, logger: logger) }
        var expired: [Partition] = []
        if let cutoff {
            expired = Array(partitions.prefix { $0.name != table.afterName && ($0.high.map { $0 <= cutoff } ?? false) })
            if expired.map(\.name) == [table.beforeName], beforeIsEmpty {
                expired = []
            }
            if table.tier == TimePartitionedTable.raw.tier, !expired.isEmpty {
                let marked = try await Self.markedMinutes(below: expired, connection: connection, logger: logger)
                let releasable = releasable(expired, cutoff: cutoff, marked: marked)
                report.held = expired.dropFirst(releasable).map(\.name)
                if !report.held.isEmpty {
                    logger.info(
                        "raw rows past retention kept until the refresher rebuilds the minutes marked in them",
                        metadata: ["partitions": "\(report.held)", "marks": "\(marked.marks)"]
                    )
                }
                if let lowest = marked.lowest, expired.prefix(releasable).contains(where: { ($0.high ?? .min) > lowest }) {
                    logger.warning(
                        "dropping raw rows past retention whose minutes still wait for the refresher; their tier rows stay as they are",
                        metadata: ["partitions": "\(expired.prefix(releasable).map(\.name))", "marks": "\(marked.marks)"]
                    )
                }
                expired = Array(expired.prefix(releasable))
            }
            partitions.removeAll { partition in expired.contains { $0.name == partition.name } }
            if let dropped = before, expired.contains(where: { $0.name == dropped.name }) {
                before = nil
                beforeIsEmpty = true
            }
        }

        // Ahead: the slots `_after` covers up to two periods past now's. Slots wholly past retention are one
        // gap partition instead (dropped by the next round), so a long stop costs one table. Each slot ends
        // at the next multiple of the period, so one made under another period is followed by a short one.
        let wanted = table.slotStart(of: now) + (Self.slotsAhead + 1) * table.width
        // With no slot at all (a new install) and both catch-alls empty, `_after` may begin past `wanted` —
        // migration 7 starts it at the next day, far off under a short period: it moves down to `wanted`, so
        // now's rows get slots of the period rather than `_before`.
        var afterStart = afterLow
        if afterLow > wanted, beforeIsEmpty, !partitions.contains(where: { $0.low != nil && $0.name != table.afterName }),
            try await Self.isEmpty(after.name, connection: connection, logger: logger)
        {
            afterStart = wanted
        }
        var ahead: [(low: Int64, high: Int64)] = []
        var low = afterStart
        if low < wanted, let cutoff, table.slotStart(of: cutoff) > low {
            ahead.append((low, table.slotStart(of: cutoff)))
            low = table.slotStart(of: cutoff)
        }
        ahead += table.slots(from: low, to: wanted)

        // Below: a `_before` holding nothing is replaced by slots down to the retention's start (a new install
        // gets its slots at once); one holding rows (the table as it was before time partitions) stays whole
        // until it expires. Kept forever: slots from now's on (older rows, a backfill, go to `_before`).
        let lowestSlot = partitions.first { $0.low != nil && $0.name != table.afterName }?.low ?? afterStart
        var below: [(low: Int64, high: Int64)] = []
        var newBefore: Int64?
        if beforeIsEmpty {
            // Never below what this round expires: a slot dropped here may reach past the cutoff's slot start
            // when it was made under a shorter period.
            let expiredEnd = expired.compactMap(\.high).max() ?? .min
            let target =
                cutoff.map { max(table.slotStart(of: $0), table.slotStart(of: now) - Self.mostSlotsBack * table.width, expiredEnd) } ?? table.slotStart(of: now)
            let newLow = min(target, lowestSlot)
            if before == nil || newLow < lowestSlot {
                newBefore = newLow
                below = table.slots(from: newLow, to: lowestSlot)
            }
            report.oldestKept = newLow
        }

        // Rebuilders of tier rows finish first and start again above the new floor.
        if !expired.isEmpty {
            try await RetentionFloor.holdExclusive(on: connection, logger: logger)
        }
        for slot in ahead + below {
            try await ddl.prepare(low: slot.low, high: slot.high, connection: connection, logger: logger)
        }
        // Slots are detached here and dropped after the round commits (`dropDetached`): PostgreSQL unlinks
        // a dropped table's files at commit while its locks, the parent's included, are still held, so
        // dropping here would hold inserts for as long as unlinking takes. At the day sizes scripts/
        // bench-retention can load that is not measurable; it is for larger days (BENCHMARKS, "Aging").
        // Detaching is catalog work only. `_before` goes at once: a new one is made below.
        if table.tier == TimePartitionedTable.raw.tier, !expired.isEmpty, let cutoff {
            try await beforeExpiring?()
            // Inserts into the table finish first and no more begin (the detach below waits for the same
            // lock): a point and its mark commit together, so a mark made since the look above shows now.
            try await connection.query(PostgresQuery(unsafeSQL: "lock table \(table.table) in access exclusive mode"), logger: logger)
            let marked = try await Self.markedMinutes(below: expired, connection: connection, logger: logger)
            guard releasable(expired, cutoff: cutoff, marked: marked) == expired.count else { throw MarkedWhileExpiring(table: table.table) }
        }
        for partition in expired {
            let statement =
                partition.name == table.beforeName ? "drop table \(partition.name)" : "alter table \(table.table) detach partition \(partition.name)"
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            report.dropped.append(partition.name)
        }
        if let floor = expired.compactMap(\.high).max() {
            try await RetentionFloor.raise(table, to: floor, on: connection, logger: logger)
        }
        // An empty `_before` goes before `_after` moves: a lowered `_after` overlaps it.
        if newBefore != nil, let before {
            try await connection.query(PostgresQuery(unsafeSQL: "drop table \(before.name)"), logger: logger)
        }
        if !ahead.isEmpty || afterStart != afterLow {
            try await connection.query(PostgresQuery(unsafeSQL: "alter table \(table.table) detach partition \(table.afterName)"), logger: logger)
            for slot in ahead {
                try await ddl.attach(low: slot.low, high: slot.high, connection: connection, logger: logger)
                report.created.append(table.slotName(start: slot.low))
            }
            let moved = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        with moved as (delete from \(table.afterName) where \(table.column) < \(wanted) returning *),
                             placed as (insert into \(table.table) select * from moved returning 1)
                        select count(*)::int8 from placed
                        """),
                logger: logger
            )
            for try await count in moved.decode(Int64.self) { report.movedRows = Int(count) }
            try await connection.query(
                PostgresQuery(unsafeSQL: "alter table \(table.table) attach partition \(table.afterName) for values from (\(wanted)) to (maxvalue)"),
                logger: logger
            )
        }
        if let newBefore {
            for slot in below {
                try await ddl.attach(low: slot.low, high: slot.high, connection: connection, logger: logger)
                report.created.append(table.slotName(start: slot.low))
            }
            try await connection.query(
                PostgresQuery(unsafeSQL: "create table \(table.beforeName) partition of \(table.table) for values from (minvalue) to (\(newBefore))"),
                logger: logger
            )
        }
        if !report.created.isEmpty || !report.dropped.isEmpty {
            logger.info(
                "partitions maintained",
                metadata: ["table": "\(table.table)", "created": "\(report.created)", "dropped": "\(report.dropped)", "moved_rows": "\(report.movedRows)"]
            )
        }
        return report
    }

    /// How many of the raw slots `expired` (lowest first) may go now. A slot holding a minute a mark waits on
    /// stays, with every slot above it (the floor is one line), until the refresher has rebuilt those minutes
    /// — else a late point stored just before its day expired would never reach the tiers — or until it has
    /// been past retention for `markGrace`: a refresher that cannot catch up must not keep a day forever.
    func releasable(_ expired: [Partition], cutoff: Int64, marked: MarkedMinutes) -> Int {
        guard let lowest = marked.lowest else { return expired.count }
        let graceEnds = cutoff.subtractingReportingOverflow(markGrace)
        return expired.prefix { partition in
            guard let high = partition.high else { return false }
            return high <= lowest || (!graceEnds.overflow && high <= graceEnds.partialValue)
        }.count
    }

    struct MarkedMinutes {
        /// The first marked minute above the raw floor, if any.
        var lowest: Int64?
        var marks: Int64
    }

    /// The marks reaching into `partitions` (lowest first) above the raw floor.
    static func markedMinutes(below partitions: [Partition], connection: PostgresConnection, logger: Logger) async throws -> MarkedMinutes {
        let end = partitions.compactMap(\.high).max() ?? .min
        let rows = try await connection.query(
            """
            select min(greatest(first_bucket, \(unescaped: RetentionFloor.rawFloorExpression))), count(*)::int8 from rollup_marks
            where first_bucket < \(end) and last_bucket >= \(unescaped: RetentionFloor.rawFloorExpression)
            """,
            logger: logger
        )
        var marked = MarkedMinutes(lowest: nil, marks: 0)
        for try await (lowest, count) in rows.decode((Int64?, Int64).self) { marked = MarkedMinutes(lowest: lowest, marks: count) }
        return marked
    }

    /// Drops the table's slots that are no longer its partitions — detached by a round, or left by a
    /// round that stopped before dropping them — each in its own statement: a table no one else reads, so
    /// unlinking its files holds up nothing.
    static func dropDetached(_ table: TimePartitionedTable, client: PostgresClient, logger: Logger) async throws {
        let rows = try await client.query(
            """
            select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition
              and c.relname ~ \(table.slotNamePattern)
            """,
            logger: logger
        )
        var detached: [String] = []
        for try await name in rows.decode(String.self) { detached.append(name) }
        for name in detached.sorted() {
            try await client.query(PostgresQuery(unsafeSQL: "drop table if exists \(name)"), logger: logger)
        }
    }

    /// The table's partitions, lowest first (`_before` first, `_after` last).
    public static func partitions(of table: String, connection: PostgresConnection, logger: Logger) async throws -> [Partition] {
        let rows = try await connection.query(
            """
            select c.relname::text, pg_get_expr(c.relpartbound, c.oid)
            from pg_inherits i join pg_class c on c.oid = i.inhrelid
            where i.inhparent = to_regclass(\(table))
            """,
            logger: logger
        )
        var partitions: [Partition] = []
        for try await (name, bound) in rows.decode((String, String).self) {
            guard let (low, high) = rangeBounds(bound) else { continue }
            partitions.append(Partition(name: name, low: low, high: high))
        }
        return partitions.sorted { ($0.low ?? .min, $0.name) < ($1.low ?? .min, $1.name) }
    }

    /// `FOR VALUES FROM (MINVALUE) TO ('1764201600000000000')` → (nil, 1764201600000000000); nil for any
    /// other kind of bound.
    static func rangeBounds(_ bound: String) -> (Int64?, Int64?)? {
        func value(after marker: String) -> Int64?? {
            guard let start = bound.range(of: marker)?.upperBound,
                let end = bound[start...].firstIndex(of: ")")
            else { return .none }
            let text = bound[start..<end].filter { $0 != "'" }
            if text == "MINVALUE" || text == "MAXVALUE" { return .some(nil) }
            guard let number = Int64(text) else { return .none }
            return .some(number)
        }
        guard case .some(let low) = value(after: "FROM ("), case .some(let high) = value(after: "TO (") else { return nil }
        return (low, high)
    }

    static func isEmpty(_ name: String, connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: "select not exists (select 1 from \(name))"), logger: logger)
        for try await empty in rows.decode(Bool.self) { return empty }
        return true
    }

    static func hashPartitionCount(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.query("select value from sluice_settings where name = 'measurement_partitions'", logger: logger)
        for try await value in rows.decode(String.self) {
            if let count = Int(value), (1...1024).contains(count) { return count }
        }
        return 16
    }
}

/// The statements that make one slot (and, for `measurements`, its hash partitions): first as a table of
/// its own, with the parent's columns and primary key, then attached.
struct SlotStatements {
    var table: TimePartitionedTable
    var hashCount: Int

    /// Makes the slot's tables; locks nothing readers or writers of the parent wait for.
    func prepare(low: Int64, high: Int64, connection: PostgresConnection, logger: Logger) async throws {
        let name = table.slotName(start: low)
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    create table \(name) (like \(table.table) including all)\(table.hashed ? " partition by hash (series_id)" : "")
                    """),
            logger: logger
        )
        guard table.hashed else { return }
        for remainder in 0..<hashCount {
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        create table \(name)_p\(zeroPadded(remainder)) partition of \(name) for values with (modulus \(hashCount), remainder \(remainder))
                        """),
                logger: logger
            )
        }
    }

    func attach(low: Int64, high: Int64, connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            PostgresQuery(unsafeSQL: "alter table \(table.table) attach partition \(table.slotName(start: low)) for values from (\(low)) to (\(high))"),
            logger: logger
        )
    }
}

/// A mark reached a raw slot between the round's look at the marks and its drop: the round is undone, and
/// the next one keeps the slot for the refresher.
struct MarkedWhileExpiring: Error, CustomStringConvertible {
    var table: String
    var description: String { "a late point was marked in \(table)'s rows past retention as they were being dropped; the next round keeps them" }
}

/// The table is not laid out as `PartitionKeeper` keeps it (a schema older than migration 7, or changed by hand).
public struct PartitionLayoutError: Error, CustomStringConvertible {
    public var table: String
    public var found: [String]
    public var description: String {
        "\(table) is not range-partitioned by time with a _before and an _after partition (found: \(found.joined(separator: ", ")))"
    }
}
