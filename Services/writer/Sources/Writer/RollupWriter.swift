import Logging
import PostgresNIO
import SluiceModel
import SluiceStorage

/// Keeps the rollup tiers, inside the batch's transaction, so they are exactly once like the rows.
///
/// A tier row is written once, when its bucket closes: when the series has a point at least
/// `RollupTier.closingGrace` past the bucket's end. Open minutes are built in the writer's memory from
/// the points as they come (`RollupMemory`), so a batch reads nothing back. Whatever the writer cannot fold exactly in memory
/// becomes a mark (`RollupMarks`) in the same transaction, for the refresher to rebuild from the rows:
/// an open minute it did not see whole and in order (after a start or rebalance, or a point it could
/// not place) when it closes, and a point for a minute already closed. `/api` reads marked minutes from
/// the raw rows meanwhile. Hours are folded from their minutes when they close.
///
/// With rollups off (`SLUICE_ROLLUPS=off`) nothing is folded or closed, but a point for a minute that
/// has a tier row is still marked, so the tiers kept before stay true; turned on again, the writer
/// marks everything after each series' last tier row as unseen.
package struct RollupWriter {
    /// A new row of this batch.
    package struct Point: Sendable {
        package var time: Int64
        package var values: [Double]

        package init(time: Int64, values: [Double]) {
            self.time = time
            self.values = values
        }
    }

    /// How far before its newest point a series with no minute rows is marked on first sight: its
    /// earlier rows, if any, were loaded without the writer (and want `sluice-admin rollups rebuild`).
    static let firstSightReach: Int64 = 86_400_000_000_000

    let connection: PostgresConnection
    let logger: Logger
    /// Whether the writer folds tiers (`SLUICE_ROLLUPS`); when not, it only marks.
    var folds = true

    /// Updates both tiers for the rows this batch added.
    /// - Parameters:
    ///   - added: per series, the batch's points in increasing time, one per time (the first in Kafka
    ///     order). A point after the series' newest stored point is new; an older one is put in its place
    ///     in the reorder buffer when it is still held there, and otherwise treated as late (it may also be
    ///     a redelivery), which costs a mark but is always exact.
    ///   - created: series this batch created, which had no rows before it.
    ///   - table: what is remembered of these series (`RollupMemory`), updated in place; series not in
    ///     it are read from PostgreSQL and added.
    func update(added: [Int64: [Point]], created: Set<Int64>, remembered table: inout RollupMemory.Table) async throws {
        guard !added.isEmpty else { return }
        let minute = RollupTier.minute
        let hour = RollupTier.hour
        var tally = RollupTally()
        defer { tally.report() }
        // New series: nothing was stored before their first points.
        table.rememberCreated(in: added, where: created.contains)
        let unknown = added.keys.filter { !table.contains($0) }.sorted()
        if !unknown.isEmpty {
            // First sight of a series: where its tiers end, its newest point (this batch's rows included),
            // and every open minute marked as unseen when it closes.
            let minuteTails = try await newestBuckets(of: unknown, in: minute)
            let hourTails = try await newestBuckets(of: unknown, in: hour)
            for (id, time) in try await newestTimes(of: unknown) {
                let newestMinute = minute.bucket(of: time)
                let firstOpen =
                    minuteTails[id].map { $0 + minute.step }
                    ?? max(hourTails[id].map { $0 + hour.step } ?? .min, minute.bucket(of: max(0, time - Self.firstSightReach)))
                let series = RollupMemory.Series(
                    minuteTail: minuteTails[id], hourTail: hourTails[id], newest: time, dirty: firstOpen <= newestMinute ? firstOpen...newestMinute : nil
                )
                table.remember(series, as: id)
            }
        }

        var writes = RollupMemory.Writes()
        table.fold(added, folds: folds, tally: &tally, writes: &writes)
        defer { RollupMetrics.count(writes.marks) }
        guard folds else {
            try await RollupMarks.insert(Self.merged(writes.marks), on: connection, logger: logger)
            return
        }
        // Rows in (series, bucket) order whatever order the memory closed them in: transactions that lock
        // overlapping tier rows in one order cannot deadlock each other.
        try await write(writes.closed.sorted { ($0.series, $0.bucket) < ($1.series, $1.bucket) }, to: minute)
        try await RollupMarks.insert(Self.merged(writes.marks), on: connection, logger: logger)
        let hourRanges = writes.hourRanges.sorted { $0.series < $1.series }
        try await write(try await RollupFold.hoursFromMinutes(hourRanges, on: connection, logger: logger), to: hour)
    }

    /// One mark per run of adjacent minutes of a series and reason.
    static func merged(_ marks: [RollupMarks.Mark]) -> [RollupMarks.Mark] {
        var result: [RollupMarks.Mark] = []
        for mark in marks.sorted(by: { ($0.series, $0.reason.rawValue, $0.first) < ($1.series, $1.reason.rawValue, $1.first) }) {
            if let last = result.last, last.series == mark.series, last.reason == mark.reason, mark.first <= last.last + RollupTier.minute.step {
                result[result.count - 1].last = max(last.last, mark.last)
            } else {
                result.append(mark)
            }
        }
        return result
    }

    /// The time of each series' newest point.
    private func newestTimes(of series: [Int64]) async throws -> [(Int64, Int64)] {
        let rows = try await connection.query(
            """
            select s.id, m.ts from unnest(\(series)::bigint[]) as s(id)
            cross join lateral (select ts from measurements where series_id = s.id order by ts desc limit 1) m
            """,
            logger: logger
        )
        var times: [(Int64, Int64)] = []
        for try await row in rows.decode((Int64, Int64).self) { times.append(row) }
        return times
    }

    /// The newest bucket of each series in a tier: one index probe per series.
    private func newestBuckets(of series: [Int64], in tier: RollupTier) async throws -> [Int64: Int64] {
        let rows = try await connection.query(
            """
            select s.id, r.bucket from unnest(\(series)::bigint[]) as s(id)
            cross join lateral (select bucket from \(unescaped: tier.table) where series_id = s.id order by bucket desc limit 1) r
            """,
            logger: logger
        )
        var newest: [Int64: Int64] = [:]
        for try await (id, bucket) in rows.decode((Int64, Int64).self) { newest[id] = bucket }
        return newest
    }

    private func write(_ states: [(series: Int64, bucket: Int64, state: BucketState)], to tier: RollupTier) async throws {
        guard !states.isEmpty else { return }
        RollupMetrics.rowsWritten(tier.name).increment(by: states.count)
        try await RollupRows.upsert(states, into: tier, on: connection, logger: logger)
    }
}
