import Logging
import PostgresNIO
import SluiceModel
import SluiceStorage

/// Keeps the rollup tiers, inside the batch's transaction, so they are exactly once like the rows.
///
/// A tier row is written once, when its bucket closes: when the series has a point at least `grace`
/// past the bucket's end. Open minutes are built in the writer's memory from the points as they come
/// (`RollupMemory`), so a batch reads nothing back; an open minute the writer did not see whole and in
/// order (after a start or rebalance, or when a point arrives out of order) is read back from the rows
/// when it closes. A point for a minute already closed has that minute recomputed from the rows (a
/// minute counts only its own points' increases, `BucketState`, so no other minute changes); hours are
/// folded from their minutes when they close.
struct RollupWriter {
    /// A new row of this batch.
    struct Point {
        var time: Int64
        var values: [Double]
    }

    struct BucketKey: Hashable {
        var series: Int64
        var bucket: Int64
    }

    static let grace = RollupTier.closingGrace

    let connection: PostgresConnection
    let logger: Logger

    /// Updates both tiers for the rows this batch added.
    /// - Parameters:
    ///   - added: per series, the batch's points in increasing time, one per time (the first in Kafka
    ///     order). A point after the series' newest stored point is new; any other is treated as late
    ///     (it may also be a redelivery), which costs a read but is always exact.
    ///   - created: series this batch created, which had no rows before it.
    ///   - entries: what is remembered of these series (`RollupMemory`), updated in place; series not in
    ///     it are read from PostgreSQL and added.
    func update(added: [Int64: [Point]], created: Set<Int64>, remembered entries: inout [Int64: RollupMemory.Series]) async throws {
        guard !added.isEmpty else { return }
        let ids = added.keys.sorted()
        let minute = RollupTier.minute, hour = RollupTier.hour
        var tally = RollupTally()
        defer { tally.report() }
        var fresh: Set<Int64> = []
        for id in ids where entries[id] == nil && created.contains(id) {
            // A new series: its first point starts its first open minute; the rest follow in order.
            guard let first = added[id]?.first else { continue }
            var entry = RollupMemory.Series(minuteTail: nil, hourTail: nil, newest: first, dirty: nil)
            entry.open[minute.bucket(of: first.time)] = BucketState(time: first.time, values: first.values)
            entries[id] = entry
            fresh.insert(id)
            tally.inOrder += 1
        }
        let unknown = ids.filter { entries[$0] == nil }
        if !unknown.isEmpty {
            // First sight of a series: where its tiers end, its newest point (this batch's rows included),
            // and every open minute read back from the rows when it closes.
            let minuteTails = try await newestBuckets(of: unknown, in: minute)
            let hourTails = try await newestBuckets(of: unknown, in: hour)
            for (id, time, values) in try await newestPoints(of: unknown) {
                let firstOpen = minuteTails[id].map { $0 + minute.step } ?? 0
                let newestMinute = minute.bucket(of: time)
                entries[id] = RollupMemory.Series(
                    minuteTail: minuteTails[id], hourTail: hourTails[id], newest: Point(time: time, values: values),
                    dirty: firstOpen <= newestMinute ? firstOpen...newestMinute : nil
                )
            }
        }

        var recomputeMinutes: Set<BucketKey> = []
        for id in ids {
            guard var entry = entries.removeValue(forKey: id) else { continue }
            for point in (added[id] ?? []).dropFirst(fresh.contains(id) ? 1 : 0) {
                let bucket = minute.bucket(of: point.time)
                let newest = entry.newest
                if let tail = entry.minuteTail, bucket <= tail {
                    // A closed minute: recomputed from the rows.
                    switch entry.place(point.time) {
                    case .stored:
                        tally.stored += 1
                        continue
                    case .between(_, _, let index): entry.remember(point, at: index)
                    case .unknown: break
                    }
                    tally.closed += 1
                    recomputeMinutes.insert(BucketKey(series: id, bucket: bucket))
                } else if point.time > newest.time {
                    if !entry.isDirty(bucket) {
                        if entry.open[bucket] != nil {
                            entry.open[bucket]?.add(time: point.time, values: point.values)  // in place
                        } else {
                            entry.open[bucket] = BucketState(time: point.time, values: point.values)
                        }
                    }
                    entry.remember(point)
                    tally.inOrder += 1
                } else {
                    placeLate(point, in: &entry, bucket: bucket, tally: &tally)
                }
            }
            entries[id] = entry
        }
        if !recomputeMinutes.isEmpty {
            try await write(try await minutesFromRows(Array(recomputeMinutes)), to: minute)
        }

        // Close the minutes each series has moved past.
        var closed: [(series: Int64, bucket: Int64, state: BucketState)] = []
        var readBack: [(series: Int64, from: Int64, to: Int64)] = []
        var hourRanges: [(series: Int64, from: Int64, to: Int64)] = []
        for id in ids {
            guard var entry = entries.removeValue(forKey: id) else { continue }
            let from = entry.minuteTail.map { $0 + minute.step } ?? 0
            let to = minute.bucket(of: max(0, entry.newest.time - Self.grace))
            if to > from {
                if let dirty = entry.dirty, dirty.lowerBound < to {
                    readBack.append((id, max(from, dirty.lowerBound), min(to, dirty.upperBound + minute.step)))
                    entry.dirty = dirty.upperBound < to ? nil : to...dirty.upperBound
                }
                for bucket in entry.open.keys.filter({ $0 < to }) {
                    if let state = entry.open.removeValue(forKey: bucket) { closed.append((id, bucket, state)) }
                }
                entry.minuteTail = to - minute.step
            }
            // Hours whose minutes are all closed.
            if let minuteTail = entry.minuteTail {
                let hourFrom = entry.hourTail.map { $0 + hour.step } ?? 0
                let hourTo = hour.bucket(of: minuteTail + minute.step)
                if hourTo > hourFrom {
                    hourRanges.append((id, hourFrom, hourTo))
                    entry.hourTail = hourTo - hour.step
                }
            }
            entries[id] = entry
        }
        try await write(closed + (try await bucketsFromRows(readBack, tier: minute)), to: minute)
        // Closed hours holding a recomputed minute, unless this batch closes them anyway.
        for key in Set(recomputeMinutes.map { BucketKey(series: $0.series, bucket: hour.bucket(of: $0.bucket)) }) {
            guard let tail = entries[key.series]?.hourTail, key.bucket <= tail else { continue }
            if hourRanges.contains(where: { $0.series == key.series && key.bucket >= $0.from && key.bucket < $0.to }) { continue }
            hourRanges.append((key.series, key.bucket, key.bucket + hour.step))
        }
        try await write(try await hoursFromMinutes(hourRanges), to: hour)
    }

    /// Places a point older than the series' newest into its open minute, between its two stored
    /// neighbours (only those inside the minute count, `BucketState.insert`). A point stored already
    /// changes nothing; one older than the remembered points, or one the open minute cannot take exactly
    /// (ragged value counts), has its minutes read back from the rows at close.
    private func placeLate(_ point: Point, in entry: inout RollupMemory.Series, bucket: Int64, tally: inout RollupTally) {
        let minute = RollupTier.minute
        let newestMinute = minute.bucket(of: entry.newest.time)
        let before: Point, after: Point
        switch entry.place(point.time) {
        case .stored:
            tally.stored += 1
            return
        case .unknown:
            tally.readBack += 1
            entry.markDirty(from: bucket, through: newestMinute)
            return
        case .between(let found, let next, let index):
            (before, after) = (found, next)
            entry.remember(point, at: index)
        }
        guard !entry.isDirty(bucket) else {
            tally.readBack += 1
            return
        }
        let beforeInside = minute.bucket(of: before.time) == bucket ? before.values : nil
        let afterInside = minute.bucket(of: after.time) == bucket ? after.values : nil
        if entry.open[bucket] == nil && beforeInside == nil && afterInside == nil {
            entry.open[bucket] = BucketState(time: point.time, values: point.values)
        } else if entry.open[bucket]?.insert(time: point.time, values: point.values, before: beforeInside, after: afterInside) != true {
            tally.readBack += 1
            entry.markDirty(from: bucket, through: newestMinute)
            return
        }
        tally.placed += 1
    }

    /// The newest point of each series.
    private func newestPoints(of series: [Int64]) async throws -> [(Int64, Int64, [Double])] {
        let rows = try await connection.query(
            """
            select s.id, m.ts, m.vals from unnest(\(series)::bigint[]) as s(id)
            cross join lateral (select ts, vals from measurements where series_id = s.id order by ts desc limit 1) m
            """,
            logger: logger
        )
        var points: [(Int64, Int64, [Double])] = []
        for try await row in rows.decode((Int64, Int64, [Double]).self) { points.append(row) }
        return points
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

    private func minutesFromRows(_ keys: [BucketKey]) async throws -> [(series: Int64, bucket: Int64, state: BucketState)] {
        try await bucketsFromRows(keys.map { ($0.series, $0.bucket, $0.bucket + RollupTier.minute.step) }, tier: .minute)
    }

    /// Buckets of `tier` computed from the raw rows of each range (whole buckets: a bucket counts only
    /// its own points). One statement for all ranges.
    private func bucketsFromRows(_ ranges: [(series: Int64, from: Int64, to: Int64)], tier: RollupTier) async throws -> [(series: Int64, bucket: Int64, state: BucketState)] {
        guard !ranges.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            select r.n, m.ts, m.vals from unnest(\(ranges.map(\.series))::bigint[], \(ranges.map(\.from))::bigint[], \(ranges.map(\.to))::bigint[])
                with ordinality as r(series_id, low, high, n)
            join measurements m on m.series_id = r.series_id and m.ts >= r.low and m.ts < r.high
            order by r.n, m.ts
            """,
            logger: logger
        )
        var states: [(series: Int64, bucket: Int64, state: BucketState)] = []
        var range = -1
        var open: (bucket: Int64, state: BucketState)?
        var read = 0
        defer { RollupMetrics.rowsRead.increment(by: read) }
        for try await (number, time, values) in rows.decode((Int64, Int64, [Double]).self) {
            read += 1
            let index = Int(number) - 1
            let bucket = tier.bucket(of: time)
            if index == range, open?.bucket == bucket {
                open?.state.add(time: time, values: values)
            } else {
                if let done = open { states.append((ranges[range].series, done.bucket, done.state)) }
                range = index
                open = (bucket, BucketState(time: time, values: values))
            }
        }
        if let done = open, range >= 0 { states.append((ranges[range].series, done.bucket, done.state)) }
        return states
    }

    /// Hours folded from their minute rows, in time order, as `/api` folds them (`BucketAggregator`).
    private func hoursFromMinutes(_ ranges: [(series: Int64, from: Int64, to: Int64)]) async throws -> [(series: Int64, bucket: Int64, state: BucketState)] {
        guard !ranges.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            select r.n, m.bucket, m.counts, m.sums, m.mins, m.maxs, m.firsts, m.lasts, m.increases, m.first_ts, m.last_ts, m.first_point, m.last_point
            from unnest(\(ranges.map(\.series))::bigint[], \(ranges.map(\.from))::bigint[], \(ranges.map(\.to))::bigint[])
                with ordinality as r(series_id, low, high, n)
            join rollups_1m m on m.series_id = r.series_id and m.bucket >= r.low and m.bucket < r.high
            order by r.n, m.bucket
            """,
            logger: logger
        )
        var states: [(series: Int64, bucket: Int64, state: BucketState)] = []
        var range = -1
        var open: (bucket: Int64, state: BucketState)?
        for try await row in rows.decode((Int64, Int64, [Int32], [Double], [Double], [Double], [Double], [Double], [Double], Int64, Int64, [Double], [Double]).self) {
            let index = Int(row.0) - 1
            if index != range {
                if let done = open { states.append((ranges[range].series, done.bucket, done.state)) }
                range = index
                open = nil
            }
            let minuteState = BucketState(
                counts: row.2, sums: row.3, minimums: row.4, maximums: row.5, firsts: row.6, lasts: row.7,
                increases: row.8, firstTime: row.9, lastTime: row.10, firstPoint: row.11, lastPoint: row.12
            )
            let bucket = RollupTier.hour.bucket(of: row.1)
            if var current = open, current.bucket == bucket {
                current.state.append(minuteState)
                open = current
            } else {
                if let done = open { states.append((ranges[index].series, done.bucket, done.state)) }
                open = (bucket, minuteState)
            }
        }
        if let done = open, range >= 0 { states.append((ranges[range].series, done.bucket, done.state)) }
        return states
    }

    private func write(_ states: [(series: Int64, bucket: Int64, state: BucketState)], to tier: RollupTier) async throws {
        guard !states.isEmpty else { return }
        RollupMetrics.rowsWritten(tier.name).increment(by: states.count)
        try await RollupRows.upsert(states, into: tier, on: connection, logger: logger)
    }
}
