import Logging
import PostgresNIO
import SluiceModel

/// Writes tier rows: the writer's and `sluice-admin rollups rebuild`'s one statement.
public enum RollupRows {
    /// Upserts whole bucket states. Each array column travels as one flat array (binary, no text
    /// formatting) with every row's width, and is cut back into rows in SQL.
    public static func upsert(
        _ states: [(series: Int64, bucket: Int64, state: BucketState)], into tier: RollupTier, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !states.isEmpty else { return }
        var widths: [Int32] = []
        var firstWidths: [Int32] = []
        var pointWidths: [Int32] = []
        var counts: [Int32] = []
        var sums: [Double] = []
        var mins: [Double] = []
        var maxs: [Double] = []
        var firsts: [Double] = []
        var lasts: [Double] = []
        var increases: [Double] = []
        var firstPoints: [Double] = []
        var lastPoints: [Double] = []
        for (_, _, state) in states {
            widths.append(Int32(state.counts.count))
            firstWidths.append(Int32(state.firstPoint.count))
            pointWidths.append(Int32(state.lastPoint.count))
            counts += state.counts
            sums += state.sums
            mins += state.minimums
            maxs += state.maximums
            firsts += state.firsts
            lasts += state.lasts
            increases += state.increases
            firstPoints += state.firstPoint
            lastPoints += state.lastPoint
        }
        try await connection.query(
            """
            insert into \(unescaped: tier.table) (series_id, bucket, counts, sums, mins, maxs, firsts, lasts, increases, first_ts, last_ts, first_point, last_point)
            select u.series_id, u.bucket,
                   (\(counts)::int[])[u.o + 1 : u.o + u.w], (\(sums)::float8[])[u.o + 1 : u.o + u.w],
                   (\(mins)::float8[])[u.o + 1 : u.o + u.w], (\(maxs)::float8[])[u.o + 1 : u.o + u.w],
                   (\(firsts)::float8[])[u.o + 1 : u.o + u.w], (\(lasts)::float8[])[u.o + 1 : u.o + u.w],
                   (\(increases)::float8[])[u.o + 1 : u.o + u.w], u.first_ts, u.last_ts,
                   (\(firstPoints)::float8[])[u.fo + 1 : u.fo + u.fw], (\(lastPoints)::float8[])[u.po + 1 : u.po + u.pw]
            from (
                select x.*, coalesce(sum(x.w) over (order by x.n rows between unbounded preceding and 1 preceding), 0) as o,
                       coalesce(sum(x.fw) over (order by x.n rows between unbounded preceding and 1 preceding), 0) as fo,
                       coalesce(sum(x.pw) over (order by x.n rows between unbounded preceding and 1 preceding), 0) as po
                from unnest(\(states.map(\.series))::bigint[], \(states.map(\.bucket))::bigint[], \(widths)::int[], \(firstWidths)::int[], \(pointWidths)::int[],
                            \(states.map(\.state.firstTime))::bigint[], \(states.map(\.state.lastTime))::bigint[])
                    with ordinality as x(series_id, bucket, w, fw, pw, first_ts, last_ts, n)
            ) u
            on conflict (series_id, bucket) do update set
                counts = excluded.counts, sums = excluded.sums, mins = excluded.mins, maxs = excluded.maxs, firsts = excluded.firsts,
                lasts = excluded.lasts, increases = excluded.increases, first_ts = excluded.first_ts, last_ts = excluded.last_ts,
                first_point = excluded.first_point, last_point = excluded.last_point
            """,
            logger: logger
        )
    }
}
