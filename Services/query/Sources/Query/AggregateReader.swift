import Logging
import PostgresNIO
import SluiceModel
import SluiceStorage

/// Computes aggregates per bucket from the coarsest rollup tier whose step divides the requested step
/// (`RollupTier.coarsest(dividing:)`), then the finer tier and the raw rows for what the tiers have not
/// closed yet (a series' newest minute and hour), all folded into the same `BucketState` the writer
/// builds its tiers with, so every path gives the raw rows' answer.
public struct AggregateReader: Sendable {
    private let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// - Returns: the tier the closed buckets came from (nil: all from raw rows) and the values per bucket.
    public func buckets(seriesID: Int64, grid: BucketGrid, function: AggregateFunction, logger: Logger) async throws -> (tier: RollupTier?, values: [[Double?]?]) {
        let (tier, aggregator) = try await aggregate(
            seriesID: seriesID, grid: grid, columns: TierColumns(answering: function), countsIncreases: function == .rate, logger: logger
        )
        return (tier, aggregator.values(of: function))
    }

    /// Each bucket's whole state (nil for an empty bucket), for callers that combine series.
    public func states(seriesID: Int64, grid: BucketGrid, logger: Logger) async throws -> (tier: RollupTier?, states: [BucketState?]) {
        let (tier, aggregator) = try await aggregate(seriesID: seriesID, grid: grid, columns: .all, countsIncreases: false, logger: logger)
        return (tier, aggregator.states)
    }

    /// - Parameters:
    ///   - columns: the tier arrays the answer reads; the others come back as zeros, never looked at.
    ///   - countsIncreases: whether the first point's increase matters (`rate`), which costs a read of
    ///     the point before the window.
    private func aggregate(seriesID: Int64, grid: BucketGrid, columns: TierColumns, countsIncreases: Bool, logger: Logger) async throws -> (RollupTier?, BucketAggregator) {
        var aggregator = BucketAggregator(grid: grid, blockSteps: RollupTier.all.map(\.step))
        if countsIncreases {
            // The point before the window counts the first bucket's first increase (a block counts only
            // its own points', `BucketState`).
            switch try await PrecedingRow(client: client).nearby(seriesID: seriesID, before: grid.first, inclusive: false, logger: logger) {
            case .row(let time, let values):
                aggregator.seed(before: values, at: time)
            case .none, .unknown:
                // `unknown`: with rows in the window there is none before it; without, it would count for nothing.
                break
            }
        }
        // A tier serves only a grid whose buckets are whole tier buckets.
        let tier = RollupTier.coarsest(dividing: grid.step).flatMap { grid.first % $0.step == 0 ? $0 : nil }
        var rawFrom = grid.first
        // Coarsest first: each finer tier continues where the coarser one ends.
        for source in RollupTier.all.reversed() where tier.map({ $0.step >= source.step }) ?? false {
            // PostgreSQL packs the rows, a thousand to one bytea of `int8send`/`array_send` values: read row by
            // row, PostgresNIO's per-row work was most of an answer's time.
            let packs = try await client.query(
                """
                select string_agg(int8send(bucket) || int8send(first_ts) || int8send(last_ts) || \(unescaped: columns.packedArrays),
                                  ''::bytea order by bucket)
                from (
                    select *, (row_number() over (order by bucket) - 1) / 1000 as pack from \(unescaped: source.table)
                    where series_id = \(seriesID) and bucket >= \(rawFrom) and bucket < \(grid.end)
                ) r
                group by pack order by pack
                """,
                logger: logger
            )
            for try await pack in packs.decode(ByteBuffer.self) {
                var buffer = pack
                while buffer.readableBytes > 0 {
                    let bucket = try BinaryArray.int64(from: &buffer)
                    aggregator.add(rollup: try Self.state(from: &buffer, columns: columns), step: source.step)
                    rawFrom = bucket + source.step
                }
            }
        }
        guard rawFrom < grid.end else { return (tier, aggregator) }
        let rows = try await client.query(
            "select ts, vals from measurements where series_id = \(seriesID) and ts >= \(rawFrom) and ts < \(grid.end) order by ts",
            logger: logger
        )
        for try await row in rows {
            var cells = CellReader(row)
            aggregator.add(time: try cells.int64(), values: try cells.doubles())
        }
        return (tier, aggregator)
    }

    /// Reads one packed tier row after its bucket: first and last times, counts, then the wanted arrays in
    /// `TierColumns.order`. An array not asked for is zeros (the points: empty, joining nothing).
    private static func state(from buffer: inout ByteBuffer, columns: TierColumns) throws -> BucketState {
        let firstTime = try BinaryArray.int64(from: &buffer)
        let lastTime = try BinaryArray.int64(from: &buffer)
        let counts = try BinaryArray.int32s(from: &buffer)
        let zeros = [Double](repeating: 0, count: counts.count)
        func array(_ flag: TierColumns) throws -> [Double] {
            columns.contains(flag) ? try BinaryArray.doubles(from: &buffer) : zeros
        }
        return BucketState(
            counts: counts, sums: try array(.sums), minimums: try array(.minimums), maximums: try array(.maximums),
            firsts: try array(.firsts), lasts: try array(.lasts), increases: try array(.increases),
            firstTime: firstTime, lastTime: lastTime,
            firstPoint: columns.contains(.firstPoint) ? try BinaryArray.doubles(from: &buffer) : [],
            lastPoint: columns.contains(.lastPoint) ? try BinaryArray.doubles(from: &buffer) : []
        )
    }
}
