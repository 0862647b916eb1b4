import Logging
import PostgresNIO
import SluiceModel

/// Rebuilds marked minutes (`RollupMarks`) and their hours from the raw rows, so that what the writer
/// could not fold exactly in memory costs it nothing but a mark.
///
/// Only minutes of closed hours are rebuilt (hours up to the series' newest hour row): the writer never
/// writes those again, so the refresher is the only one writing them and nothing it writes can be
/// overwritten with older data. The rest of a mark waits (`deferred`). Marks are taken with
/// `for update skip locked` and deleted in the same transaction that rebuilds them; a mark the writer
/// adds meanwhile is a new row, so none is lost. One refresher works at a time (a transaction-level
/// advisory lock), whichever writer process runs it.
public struct RollupRefresher: Sendable {
    static let lockKey: Int64 = SchemaMigrator.advisoryLockKey + 1

    let client: PostgresClient
    /// Marks taken per transaction.
    let marksPerRound: Int
    /// Minutes rebuilt per transaction at most (the rest of the marks go back), so that a long marked
    /// range (a writer that ran with rollups off for a day) is rebuilt in bounded steps.
    let minutesPerRound: Int64

    public init(client: PostgresClient, marksPerRound: Int = 200, minutesPerRound: Int64 = 1440) {
        self.client = client
        self.marksPerRound = marksPerRound
        self.minutesPerRound = minutesPerRound
    }

    /// What one round did.
    public struct Round: Sendable, Equatable {
        public var marks: [RollupMarks.Reason: Int] = [:]
        /// Ranges of minutes rebuilt (overlapping marks merged).
        public var ranges = 0
        public var minutes = 0
        public var hours = 0
        public var rowsRead = 0
        public var deferred = 0
        /// Marks dropped because they lie before the raw floor (`RetentionFloor`).
        public var expired = 0

        public var isEmpty: Bool { marks.isEmpty }
    }

    /// One transaction: takes marks, rebuilds what lies in closed hours, puts the rest back.
    /// - Returns: nil when another refresher holds the lock.
    public func round(logger: Logger) async throws -> Round? {
        try await client.withTransaction(logger: logger) { connection in
            var locked = false
            for try await held in try await connection.query("select pg_try_advisory_xact_lock(\(Self.lockKey))", logger: logger).decode(Bool.self) {
                locked = held
            }
            guard locked else { return nil }
            // Below the raw floor the rows are gone: a mark there is dropped (its tier rows are all that is
            // left), one across it is rebuilt from the floor on.
            try await RetentionFloor.holdShared(on: connection, logger: logger)
            let floor = try await RetentionFloor.raw(on: connection, logger: logger) ?? .min
            var round = Round()
            if floor > .min {
                let expired = try await connection.query(
                    "delete from rollup_marks where last_bucket < \(floor) returning series_id, first_bucket, last_bucket", logger: logger
                )
                for try await (series, first, last) in expired.decode((Int64, Int64, Int64).self) {
                    round.expired += 1
                    logger.warning(
                        "a rollup mark lies before the raw rows kept; its tier rows stay as they are",
                        metadata: ["series_id": "\(series)", "first_bucket": "\(first)", "last_bucket": "\(last)", "raw_floor": "\(floor)"]
                    )
                }
            }
            // Marks whose first minute lies in a closed hour (the series has an hour row at or after it).
            let taken = try await connection.query(
                """
                with hours as (
                    select s.id, (select max(bucket) from \(unescaped: RollupTier.hour.table) where series_id = s.id) as newest
                    from (select distinct series_id as id from rollup_marks) s
                )
                delete from rollup_marks d using hours h
                where h.id = d.series_id and d.id in (
                    select m.id from rollup_marks m join hours h on h.id = m.series_id
                    where m.first_bucket - \(RollupTier.hour.step - RollupTier.minute.step) <= h.newest
                    order by m.id limit \(marksPerRound) for update of m skip locked
                )
                returning d.series_id, d.first_bucket, d.last_bucket, d.reason, h.newest
                """,
                logger: logger
            )
            var ranges: [Int64: [TimeSpans.Span]] = [:]
            var putBack: [RollupMarks.Mark] = []
            for try await (series, first, last, reasonName, newestHour) in taken.decode((Int64, Int64, Int64, String, Int64).self) {
                let reason = RollupMarks.Reason(rawValue: reasonName) ?? .unseen
                round.marks[reason, default: 0] += 1
                let closedEnd = newestHour + RollupTier.hour.step
                let end = min(last + RollupTier.minute.step, closedEnd)
                let start = max(first, floor)
                if start < end { ranges[series, default: []].append(TimeSpans.Span(lower: start, upper: end)) }
                if end <= last {
                    putBack.append(RollupMarks.Mark(series: series, first: end, last: last, reason: .deferred))
                }
            }
            guard !round.isEmpty else { return round }
            // Overlapping marks merged (an upsert may not touch a row twice), within the round's budget.
            var budget = minutesPerRound
            var minuteRanges: [RollupFold.Range] = []
            for (series, spans) in ranges.sorted(by: { $0.key < $1.key }) {
                for span in TimeSpans(spans).spans {
                    guard budget > 0 else {
                        putBack.append(RollupMarks.Mark(series: series, first: span.lower, last: span.upper - RollupTier.minute.step, reason: .deferred))
                        continue
                    }
                    let take = min((span.upper - span.lower) / RollupTier.minute.step, budget)
                    let cut = span.lower + take * RollupTier.minute.step
                    minuteRanges.append((series, span.lower, cut))
                    budget -= take
                    if cut < span.upper {
                        putBack.append(RollupMarks.Mark(series: series, first: cut, last: span.upper - RollupTier.minute.step, reason: .deferred))
                    }
                }
            }
            round.deferred = putBack.count
            try await RollupMarks.insert(putBack, on: connection, logger: logger)
            guard !minuteRanges.isEmpty else { return round }
            round.ranges = minuteRanges.count

            try await delete(minuteRanges, from: .minute, on: connection, logger: logger)
            let (minutes, read) = try await RollupFold.fromRows(minuteRanges, tier: .minute, on: connection, logger: logger)
            try await RollupRows.upsert(minutes, into: .minute, on: connection, logger: logger)
            round.minutes = minutes.count
            round.rowsRead = read
            // The hours holding them, refolded from their minutes.
            let hourStep = RollupTier.hour.step
            var hourSpans: [Int64: [TimeSpans.Span]] = [:]
            for range in minuteRanges {
                let span = TimeSpans.Span(lower: RollupTier.hour.bucket(of: range.from), upper: RollupTier.hour.bucket(of: range.to - 1) + hourStep)
                hourSpans[range.series, default: []].append(span)
            }
            let hourRanges = hourSpans.sorted { $0.key < $1.key }.flatMap { series, spans in TimeSpans(spans).spans.map { (series, $0.lower, $0.upper) } }
            try await delete(hourRanges, from: .hour, on: connection, logger: logger)
            let hours = try await RollupFold.hoursFromMinutes(hourRanges, on: connection, logger: logger)
            try await RollupRows.upsert(hours, into: .hour, on: connection, logger: logger)
            round.hours = hours.count
            return round
        }
    }

    /// How many marks wait (any reason, including those waiting for their hour to close).
    public func pending(logger: Logger) async throws -> Int {
        var count = 0
        for try await value in try await client.query("select count(*)::int from rollup_marks", logger: logger).decode(Int.self) { count = value }
        return count
    }

    /// Rounds until no mark can be rebuilt now (marks in hours not yet closed stay).
    public func refreshAll(logger: Logger) async throws -> Round {
        var total = Round()
        while let round = try await round(logger: logger), !round.isEmpty {
            total.add(round)
            // A round that rebuilt nothing took only marks that must wait, and put them back.
            if round.ranges == 0 { break }
        }
        return total
    }

    private func delete(_ ranges: [RollupFold.Range], from tier: RollupTier, on connection: PostgresConnection, logger: Logger) async throws {
        guard !ranges.isEmpty else { return }
        try await connection.query(
            """
            delete from \(unescaped: tier.table) t using unnest(\(ranges.map(\.series))::bigint[], \(ranges.map(\.from))::bigint[], \(ranges.map(\.to))::bigint[]) as r(series_id, low, high)
            where t.series_id = r.series_id and t.bucket >= r.low and t.bucket < r.high
            """,
            logger: logger
        )
    }
}

extension RollupRefresher.Round {
    mutating func add(_ other: Self) {
        marks.merge(other.marks, uniquingKeysWith: +)
        ranges += other.ranges
        minutes += other.minutes
        hours += other.hours
        rowsRead += other.rowsRead
        deferred += other.deferred
        expired += other.expired
    }
}
