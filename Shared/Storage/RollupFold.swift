import Logging
import PostgresNIO
import SluiceModel

/// Builds tier buckets from what is stored: minutes from the raw rows, hours from their minute rows, with
/// the same rules as the writer's in-memory folding (`BucketState`), so a bucket built either way is the
/// same. The writer and the refresher (`RollupRefresher`) both build with these.
public enum RollupFold {
    public typealias Bucket = (series: Int64, bucket: Int64, state: BucketState)
    public typealias Range = (series: Int64, from: Int64, to: Int64)

    /// Buckets of `tier` from the raw rows of each range `[from, to)` of whole buckets (a bucket counts only
    /// its own points). One statement for all ranges.
    /// - Returns: the buckets, and how many raw rows were read.
    public static func fromRows(_ ranges: [Range], tier: RollupTier, on connection: PostgresConnection, logger: Logger) async throws -> (
        buckets: [Bucket], rowsRead: Int
    ) {
        guard !ranges.isEmpty else { return ([], 0) }
        let rows = try await connection.query(
            """
            select r.n, m.ts, m.vals from unnest(\(ranges.map(\.series))::bigint[], \(ranges.map(\.from))::bigint[], \(ranges.map(\.to))::bigint[])
                with ordinality as r(series_id, low, high, n)
            join measurements m on m.series_id = r.series_id and m.ts >= r.low and m.ts < r.high
            order by r.n, m.ts
            """,
            logger: logger
        )
        var buckets: [Bucket] = []
        var range = -1
        var open: (bucket: Int64, state: BucketState)?
        var read = 0
        for try await (number, time, values) in rows.decode((Int64, Int64, [Double]).self) {
            read += 1
            let index = Int(number) - 1
            let bucket = tier.bucket(of: time)
            if index == range, open?.bucket == bucket {
                open?.state.add(time: time, values: values)
            } else {
                if let done = open { buckets.append((ranges[range].series, done.bucket, done.state)) }
                range = index
                open = (bucket, BucketState(time: time, values: values))
            }
        }
        if let done = open, range >= 0 { buckets.append((ranges[range].series, done.bucket, done.state)) }
        return (buckets, read)
    }

    /// Hours of each range `[from, to)` folded from their minute rows, in time order, as `/api` folds them
    /// (`BucketAggregator`).
    public static func hoursFromMinutes(_ ranges: [Range], on connection: PostgresConnection, logger: Logger) async throws -> [Bucket] {
        guard !ranges.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            select r.n, m.bucket, m.counts, m.sums, m.mins, m.maxs, m.firsts, m.lasts, m.increases, m.first_ts, m.last_ts, m.first_point, m.last_point
            from unnest(\(ranges.map(\.series))::bigint[], \(ranges.map(\.from))::bigint[], \(ranges.map(\.to))::bigint[])
                with ordinality as r(series_id, low, high, n)
            join \(unescaped: RollupTier.minute.table) m on m.series_id = r.series_id and m.bucket >= r.low and m.bucket < r.high
            order by r.n, m.bucket
            """,
            logger: logger
        )
        var hours: [Bucket] = []
        var range = -1
        var open: (bucket: Int64, state: BucketState)?
        for try await row in rows.decode(
            (Int64, Int64, [Int32], [Double], [Double], [Double], [Double], [Double], [Double], Int64, Int64, [Double], [Double]).self)
        {
            let index = Int(row.0) - 1
            let minute = BucketState(
                counts: row.2, sums: row.3, minimums: row.4, maximums: row.5, firsts: row.6, lasts: row.7,
                increases: row.8, firstTime: row.9, lastTime: row.10, firstPoint: row.11, lastPoint: row.12
            )
            let bucket = RollupTier.hour.bucket(of: row.1)
            if index == range, open?.bucket == bucket {
                open?.state.append(minute)
            } else {
                if let done = open { hours.append((ranges[range].series, done.bucket, done.state)) }
                range = index
                open = (bucket, minute)
            }
        }
        if let done = open, range >= 0 { hours.append((ranges[range].series, done.bucket, done.state)) }
        return hours
    }
}
