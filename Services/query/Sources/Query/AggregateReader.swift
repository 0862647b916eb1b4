import Logging
import PostgresNIO
import SluiceModel
import SluiceStorage

/// Computes aggregates per bucket from the coarsest rollup tier whose step divides the requested step
/// (`RollupTier.coarsest(dividing:from:)`), then the finer tier and the raw rows for what the tiers have not
/// closed yet (a series' newest minute and hour) or hold marked (`RollupMarks`: waiting for the
/// refresher), all folded into the same `BucketState` the writer builds its tiers with, so every path
/// gives the raw rows' answer whatever the refresher's progress.
public struct AggregateReader: Sendable {
    private let client: PostgresClient
    /// Tier rows kept between requests (nil: every request reads them all).
    private let cache: TierStateCache?
    /// Raw minutes past the tiers kept folded between requests (nil: every request reads their rows).
    private let rawMinutes: RawMinuteCache?
    /// How many raw rows one statement reads, packed into one `bytea` (about 3 MB at ten values); tests
    /// make it small to read across many.
    private let rawRowsPerStatement: Int
    /// Tests only: runs between a window's listing and the reads after it (`readListed`), to change rows
    /// there as a concurrent writer could.
    var afterListing: (@Sendable () async throws -> Void)?

    public init(client: PostgresClient, cache: TierStateCache? = nil, rawMinutes: RawMinuteCache? = nil, rawRowsPerStatement: Int = 20_000) {
        self.client = client
        self.cache = cache
        self.rawMinutes = rawMinutes
        self.rawRowsPerStatement = max(1, rawRowsPerStatement)
    }

    /// - Returns: the tier the closed buckets came from (nil: all from raw rows) and the values per bucket.
    public func buckets(seriesID: Int64, grid: BucketGrid, function: AggregateFunction, logger: Logger) async throws -> (
        tier: RollupTier?, values: [[Double?]?]
    ) {
        let (tier, aggregator) = try await aggregate(
            seriesID: seriesID, grid: grid, span: grid.first..<grid.end, columns: TierColumns(answering: function), countsIncreases: function == .rate,
            logger: logger
        )
        return (tier, aggregator.values(of: function))
    }

    /// Each bucket's whole state (nil for an empty bucket), for callers that combine series.
    /// - Parameter window: the times to read, within the grid (a KairosDB range holds only what its query's
    ///   start and end let in); nil: all of it. Tier rows serve only where wholly inside it.
    public func states(seriesID: Int64, grid: BucketGrid, within window: Range<Int64>? = nil, logger: Logger) async throws -> (
        tier: RollupTier?, states: [BucketState?]
    ) {
        let lower = max(window?.lowerBound ?? grid.first, grid.first)
        let span = lower..<max(lower, min(window?.upperBound ?? grid.end, grid.end))
        let (tier, aggregator) = try await aggregate(seriesID: seriesID, grid: grid, span: span, columns: .all, countsIncreases: false, logger: logger)
        return (tier, aggregator.states)
    }

    /// - Parameters:
    ///   - span: the times read, within the grid.
    ///   - columns: the tier arrays the answer reads; the others come back as zeros, never looked at.
    ///   - countsIncreases: whether the first point's increase matters (`rate`), which costs a read of
    ///     the point before the window.
    private func aggregate(
        seriesID: Int64, grid: BucketGrid, span: Range<Int64>, columns: TierColumns, countsIncreases: Bool, logger: Logger
    ) async throws -> (RollupTier?, BucketAggregator) {
        var aggregator = BucketAggregator(grid: grid, blockSteps: RollupTier.all.map(\.step))
        if countsIncreases {
            // The point before the window counts the first bucket's first increase (a block counts only
            // its own points', `BucketState`).
            switch try await PrecedingRow(client: client).nearby(seriesID: seriesID, before: span.lowerBound, inclusive: false, logger: logger) {
            case .row(let time, let values):
                aggregator.seed(before: values, at: time)
            case .none, .unknown:
                // `unknown`: with rows in the window there is none before it; without, it would count for nothing.
                break
            }
        }
        // A tier serves only a grid whose buckets are whole tier buckets.
        guard let tier = RollupTier.coarsest(dividing: grid.step, from: grid.first) else {
            // Every statement of the read in one snapshot, folded as it arrives.
            aggregator = try await client.withConnection { [aggregator] connection in
                try await connection.readOnlySnapshot(logger: logger) {
                    var folded = aggregator
                    try await readRows(seriesID: seriesID, in: TimeSpans(from: span.lowerBound, to: span.upperBound), on: connection, logger: logger) {
                        time, values, _ in folded.add(time: time, values: values)
                    }
                    return folded
                }
            }
            return (nil, aggregator)
        }
        let blocks = try await client.withConnection { connection in
            if let cache, let rawMinutes,
                let blocks = try await readListed(
                    seriesID: seriesID, span: span, tier: tier, cache: cache, rawMinutes: rawMinutes, on: connection, logger: logger)
            {
                return blocks
            }
            // One snapshot: a mark and the tier rows it covers are deleted and rebuilt in one transaction.
            return try await connection.readOnlySnapshot(logger: logger) {
                try await read(seriesID: seriesID, span: span, tier: tier, columns: columns, on: connection, logger: logger)
            }
        }
        var rows = blocks.rows.makeIterator()
        var row = rows.next()
        for (step, block) in blocks.tiers {
            while let point = row, point.time < block.state.firstTime {
                aggregator.add(time: point.time, values: point.values)
                row = rows.next()
            }
            aggregator.add(rollup: block, step: step)
        }
        while let point = row {
            aggregator.add(time: point.time, values: point.values)
            row = rows.next()
        }
        return (tier, aggregator)
    }

    /// What a window is read from: tier rows (and raw minutes folded) in time order, and the raw rows of
    /// the times they do not cover.
    private struct Blocks {
        var tiers: [(step: Int64, block: StateBlock)] = []
        var rows: [(time: Int64, values: [Double])] = []
    }

    /// The window from kept rows, listed by one statement outside any transaction (`WindowListing`), and
    /// what the caches lack read after it. Nil where the listing cannot serve (a mark in the window, too
    /// many raw rows) or where a row read after it is not at its listed version any more (rewritten or
    /// removed in between): the caller then reads in one snapshot. Every row used is one the listing's
    /// snapshot held, at that version, and a version's contents never change, so the answer is exactly
    /// that snapshot's.
    private func readListed(
        seriesID: Int64, span: Range<Int64>, tier: RollupTier, cache: TierStateCache, rawMinutes: RawMinuteCache, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Blocks? {
        let tiers = Self.sources(upTo: tier)
        // A kept row is expected to end a source only if it lies wholly in the span.
        let expected = tiers.map { cache.newestEnd($0, seriesID: seriesID, before: span.upperBound - $0.step + 1) ?? span.lowerBound }
        guard
            let window = try await WindowListing.read(
                seriesID: seriesID, from: span.lowerBound, to: span.upperBound, tiers: tiers, expected: expected, rawLimit: Self.mostRawRowsKept,
                on: connection, logger: logger
            )
        else { return nil }
        try await afterListing?()
        var blocks = Blocks()
        for (source, listed) in window.tiers {
            guard let rows = try await tierRows(source, seriesID: seriesID, listed: listed, cache: cache, on: connection, logger: logger) else {
                return nil
            }
            for row in rows { blocks.tiers.append((source.step, row)) }
        }
        guard
            let minutes = try await rawMinuteBlocks(
                seriesID: seriesID, listed: window.raw.flatMap(\.rows),
                within: TimeSpans(window.raw.map { TimeSpans.Span(lower: $0.span.lowerBound, upper: $0.span.upperBound) }), cache: rawMinutes,
                on: connection, logger: logger
            )
        else { return nil }
        for block in minutes { blocks.tiers.append((RollupTier.minute.step, block)) }
        blocks.tiers.sort { $0.block.state.firstTime < $1.block.state.firstTime }
        return blocks
    }

    /// The tiers a window answered from `tier` reads, coarsest first: `tier` itself, then each finer one
    /// for what the coarser has not closed or holds marked.
    private static func sources(upTo tier: RollupTier) -> [RollupTier] {
        RollupTier.all.reversed().filter { $0.step <= tier.step }
    }

    /// Reads the span from the coarsest tier down to the raw rows. A tier row is used if it lies wholly in
    /// the span and no marked minute (`RollupMarks`) lies inside it above the raw floor (`RetentionFloor`:
    /// below it no raw rows are left to read instead); each finer source reads only what the coarser left:
    /// the buckets holding marks, the times before its first whole bucket and the times after its newest
    /// row (not closed yet). A closed bucket without a row and without a mark holds no points, so nothing
    /// else needs reading.
    private func read(seriesID: Int64, span: Range<Int64>, tier: RollupTier, columns: TierColumns, on connection: PostgresConnection, logger: Logger)
        async throws -> Blocks
    {
        var marked: [TimeSpans.Span] = []
        let marks = try await connection.query(
            """
            select greatest(first_bucket, f.floor), last_bucket from \(unescaped: RollupMarks.table), (select \(unescaped: RetentionFloor.rawFloorExpression) as floor) f
            where series_id = \(seriesID) and first_bucket < \(span.upperBound) and last_bucket > \(span.lowerBound - RollupTier.minute.step) and last_bucket >= f.floor
            """,
            logger: logger
        )
        for try await (first, last) in marks.decode((Int64, Int64).self) {
            marked.append(TimeSpans.Span(lower: first, upper: last + RollupTier.minute.step))
        }
        let masked = TimeSpans(marked)
        var blocks = Blocks()
        var pending = TimeSpans(from: span.lowerBound, to: span.upperBound)
        // Coarsest first: each finer tier reads what the coarser one left.
        for source in Self.sources(upTo: tier) {
            var newest = pending.spans.first?.lower ?? span.upperBound
            for part in pending.spans {
                // Rows wholly in the part: those starting before `last`.
                let last = part.upper - source.step + 1
                guard part.lower < last else { continue }
                try await readTier(source, seriesID: seriesID, from: part.lower, to: last, columns: columns, on: connection, logger: logger) { block in
                    newest = max(newest, block.start + source.step)
                    guard !masked.overlaps(block.start, block.start + source.step) else { return }
                    blocks.tiers.append((source.step, block))
                }
            }
            let head = TimeSpans(from: span.lowerBound, to: source.firstBucket(from: span.lowerBound))
            pending = pending.intersection(masked.widened(to: source.step).union(head).union(TimeSpans(from: newest, to: span.upperBound)))
        }
        if let rawMinutes, let minutes = try await readRawMinutes(seriesID: seriesID, in: pending, cache: rawMinutes, on: connection, logger: logger) {
            for block in minutes { blocks.tiers.append((RollupTier.minute.step, block)) }
        } else {
            try await readRows(seriesID: seriesID, in: pending, on: connection, logger: logger) { time, values, _ in
                blocks.rows.append((time, values))
            }
        }
        blocks.tiers.sort { $0.block.state.firstTime < $1.block.state.firstTime }
        return blocks
    }

    /// Tier rows with `from <= bucket < to`, in bucket order: from the cache where it holds the version
    /// PostgreSQL lists, the rest read.
    private func readTier(
        _ tier: RollupTier, seriesID: Int64, from: Int64, to: Int64, columns: TierColumns, on connection: PostgresConnection, logger: Logger,
        _ body: (StateBlock) throws -> Void
    ) async throws {
        guard let cache else {
            try await readTier(tier, seriesID: seriesID, .span(from: from, to: to), columns: columns, on: connection, logger: logger) { block, _ in
                try body(block)
            }
            return
        }
        let listed = try await listing(tier.table, key: "bucket", seriesID: seriesID, from: from, to: to, on: connection, logger: logger)
        guard
            let rows = try await tierRows(tier, seriesID: seriesID, listed: .init(span: from..<to, rows: listed), cache: cache, on: connection, logger: logger)
        else {
            // Cannot happen: the list and the read share one snapshot.
            throw BinaryArray.Malformed(description: "a tier row of series \(seriesID) was listed but not read")
        }
        for row in rows { try body(row) }
    }

    /// The listed tier rows in bucket order: kept ones from `cache`, the rest read (every column: a kept
    /// row answers every function) and kept. Nil when a listed row is not read at its listed version, which
    /// only a read outside the listing's snapshot can see (`readListed`).
    private func tierRows(
        _ tier: RollupTier, seriesID: Int64, listed: WindowListing.Source, cache: TierStateCache, on connection: PostgresConnection, logger: Logger
    ) async throws -> [StateBlock]? {
        var rows = cache.rows(tier, seriesID: seriesID, span: listed.span, listed: listed.rows)
        let missing = listed.rows.indices.filter { rows[$0] == nil }
        if !missing.isEmpty {
            var position = [Int64: Int](minimumCapacity: missing.count)
            for index in missing { position[listed.rows[index].key] = index }
            var read: [(version: RowVersion, block: StateBlock)] = []
            read.reserveCapacity(missing.count)
            let now = ContinuousClock.now
            try await readTier(tier, seriesID: seriesID, .buckets(missing.map { listed.rows[$0].key }), columns: .all, on: connection, logger: logger) {
                block, version in
                // Kept at whatever version it was read: that version's contents, even if not the listed one.
                read.append((version, block))
                if let index = position[block.start], listed.rows[index].version == version { rows[index] = block }
            }
            cache.remember(tier, seriesID: seriesID, rows: read, read: now)
        }
        var blocks: [StateBlock] = []
        blocks.reserveCapacity(rows.count)
        for row in rows {
            guard let row else { return nil }
            blocks.append(row)
        }
        return blocks
    }

    /// The series' rows of `table` with `from <= key < to`, each with its version, in key order (at most
    /// `limit`; nil: all): a tier's rows by bucket, or raw rows by time. Packed into one bytea.
    private func listing(
        _ table: String, key: String, seriesID: Int64, from: Int64, to: Int64, limit: Int? = nil, on connection: PostgresConnection, logger: Logger
    ) async throws -> [RowListing] {
        let rows = try await connection.query(
            """
            select \(unescaped: RowListing.packed) from (
                select \(unescaped: key) as key, xmin, ctid from \(unescaped: table)
                where series_id = \(seriesID) and \(unescaped: key) >= \(from) and \(unescaped: key) < \(to) order by \(unescaped: key) limit \(limit)
            ) r
            """,
            logger: logger
        )
        var listed: [RowListing] = []
        for try await pack in rows.decode(ByteBuffer?.self) { listed += try RowListing.unpack(pack) }
        return listed
    }

    /// Which of a series' tier rows a read wants.
    private enum TierRows {
        /// `from <= bucket < to`.
        case span(from: Int64, to: Int64)
        case buckets([Int64])
    }

    /// Tier rows in bucket order, with their versions. PostgreSQL packs them, a thousand to one bytea of
    /// `int8send`/`array_send` values: read row by row, PostgresNIO's per-row work was most of an answer's
    /// time.
    private func readTier(
        _ tier: RollupTier, seriesID: Int64, _ wanted: TierRows, columns: TierColumns, on connection: PostgresConnection, logger: Logger,
        _ body: (StateBlock, RowVersion) throws -> Void
    ) async throws {
        let (from, to, buckets): (Int64, Int64, [Int64]?) =
            switch wanted {
            case .span(let from, let to): (from, to, nil)
            case .buckets(let buckets): (buckets.min() ?? 0, (buckets.max() ?? 0) + 1, buckets)
            }
        let packs = try await connection.query(
            """
            select string_agg(int8send(bucket) || \(unescaped: RowVersion.packed) || int8send(first_ts) || int8send(last_ts) || \(unescaped: columns.packedArrays),
                              ''::bytea order by bucket)
            from (
                select *, xmin, ctid, (row_number() over (order by bucket) - 1) / 1000 as pack from \(unescaped: tier.table)
                where series_id = \(seriesID) and bucket >= \(from) and bucket < \(to) and (\(buckets)::int8[] is null or bucket = any(\(buckets)))
            ) r
            group by pack order by pack
            """,
            logger: logger
        )
        for try await pack in packs.decode(ByteBuffer.self) {
            var buffer = pack
            while buffer.readableBytes > 0 {
                let bucket = try BinaryArray.int64(from: &buffer)
                let version = try RowVersion.read(from: &buffer)
                try body(StateBlock(start: bucket, state: try Self.state(from: &buffer, columns: columns)), version)
            }
        }
    }

    /// Past this many raw rows in a window's spans past the tiers (the refresher far behind, rollups off),
    /// a read keeps none: listing them costs a fraction of reading them, and they would crowd out the rest.
    static let mostRawRowsKept = 50_000

    /// The raw rows in `spans` (whole minutes past the tiers), folded a minute at a time as the tiers are
    /// (`rawMinuteBlocks`). Nil past `mostRawRowsKept` rows.
    private func readRawMinutes(seriesID: Int64, in spans: TimeSpans, cache: RawMinuteCache, on connection: PostgresConnection, logger: Logger)
        async throws -> [StateBlock]?
    {
        guard let listed = try await rawVersions(seriesID: seriesID, in: spans, upTo: Self.mostRawRowsKept, on: connection, logger: logger) else {
            return nil
        }
        guard let blocks = try await rawMinuteBlocks(seriesID: seriesID, listed: listed, within: spans, cache: cache, on: connection, logger: logger) else {
            // Cannot happen: the list and the read share one snapshot.
            throw BinaryArray.Malformed(description: "a raw row of series \(seriesID) was listed but not read")
        }
        return blocks
    }

    /// The listed raw rows (the minutes within `spans`, in time order) folded a minute at a time: from
    /// `cache` where it holds a minute at the listed versions, on from it where the list only adds later
    /// rows, and read whole otherwise. A minute that `spans` starts inside (a clipped window's first) holds
    /// only its later rows: it is read, neither taken from the cache nor kept. Nil when the rows read are
    /// not exactly the listed ones at their listed versions, which only a read outside the listing's
    /// snapshot can see (`readListed`).
    private func rawMinuteBlocks(
        seriesID: Int64, listed: [RowListing], within spans: TimeSpans, cache: RawMinuteCache, on connection: PostgresConnection, logger: Logger
    ) async throws -> [StateBlock]? {
        let minute = RollupTier.minute.step
        var blocks: [StateBlock] = []
        // The minutes to read rows for: those kept fold on from where they end.
        var reading: [(start: Int64, kept: RawMinuteCache.Minute?, rows: ArraySlice<RowListing>, keeps: Bool)] = []
        let firstTime = spans.spans.first?.lower ?? .min
        var wanted: [TimeSpans.Span] = []
        var keptRows = 0
        var index = listed.startIndex
        while index < listed.endIndex {
            let start = RollupTier.minute.bucket(of: listed[index].key)
            let end = listed[index...].firstIndex { $0.key >= start + minute } ?? listed.endIndex
            let rows = listed[index..<end]
            // Read no further than the minute's newest listed row: later ones are not the listing's.
            let upper = listed[end - 1].key + 1
            index = end
            let whole = start >= firstTime
            if whole, let kept = cache.minute(seriesID: seriesID, start: start), let last = kept.rows.last, rows.starts(with: kept.rows) {
                keptRows += kept.rows.count
                if rows.count == kept.rows.count {
                    blocks.append(kept.block)
                } else {
                    reading.append((start, kept, rows, true))
                    wanted.append(TimeSpans.Span(lower: last.key + 1, upper: upper))
                }
            } else {
                reading.append((start, nil, rows, whole))
                wanted.append(TimeSpans.Span(lower: start, upper: upper))
            }
        }
        var read: [(time: Int64, values: [Double], version: RowVersion?)] = []
        try await readRows(seriesID: seriesID, in: TimeSpans(wanted).intersection(spans), versions: true, on: connection, logger: logger) {
            read.append(($0, $1, $2))
        }
        cache.count(kept: keptRows, read: read.count)
        let now = ContinuousClock.now
        var next = read.startIndex
        for (start, kept, rows, keeps) in reading {
            var state = kept?.block.state
            for listing in rows.dropFirst(kept?.rows.count ?? 0) {
                guard next < read.endIndex, read[next].time == listing.key, read[next].version == listing.version else { return nil }
                if state == nil {
                    state = BucketState(time: read[next].time, values: read[next].values)
                } else {
                    state?.add(time: read[next].time, values: read[next].values)
                }
                next += 1
            }
            guard let state else { continue }
            let block = StateBlock(start: start, state: state)
            if keeps { cache.remember(seriesID: seriesID, start: start, RawMinuteCache.Minute(rows: Array(rows), block: block, read: kept?.read ?? now)) }
            blocks.append(block)
        }
        // A row read that was not listed: written inside a listed minute after the listing.
        guard next == read.endIndex else { return nil }
        return blocks
    }

    /// Each raw row's time and version in `spans`, in time order; nil when there are more than `limit`.
    private func rawVersions(seriesID: Int64, in spans: TimeSpans, upTo limit: Int, on connection: PostgresConnection, logger: Logger) async throws
        -> [RowListing]?
    {
        var listed: [RowListing] = []
        for span in spans.spans {
            // The spans are in time order, so each one's listing follows the last.
            listed += try await listing(
                "measurements", key: "ts", seriesID: seriesID, from: span.lower, to: span.upper, limit: limit - listed.count + 1, on: connection, logger: logger
            )
            if listed.count > limit { return nil }
        }
        return listed
    }

    /// The raw rows in the spans, in time order, each with its version if `versions` asks for it (nil
    /// otherwise). PostgreSQL packs each statement's rows into one bytea of `int8send`/`array_send`
    /// values, as it packs tier rows (`readTier`): read row by row, PostgresNIO's per-row work was most of
    /// the query service's time for a window's raw rows, and packed PostgreSQL spends no more
    /// (BENCHMARKS.md). A statement reads at most `rawRowsPerStatement` rows, the next one on from the
    /// last (the key is `(series_id, ts)`), so a window of millions of rows never has PostgreSQL build
    /// gigabytes before sending any; the caller decides what snapshot the statements share.
    private func readRows(
        seriesID: Int64, in spans: TimeSpans, versions: Bool = false, on connection: PostgresConnection, logger: Logger,
        _ body: (_ time: Int64, _ values: [Double], _ version: RowVersion?) throws -> Void
    ) async throws {
        let (version, systemColumns) = versions ? ("\(RowVersion.packed) || ", ", xmin, ctid") : ("", "")
        for span in spans.spans {
            var lower = span.lower
            var count = rawRowsPerStatement
            while count == rawRowsPerStatement {
                count = 0
                let packs = try await connection.query(
                    """
                    select string_agg(int8send(ts) || \(unescaped: version)array_send(vals), ''::bytea) from (
                        select ts, vals\(unescaped: systemColumns) from measurements
                        where series_id = \(seriesID) and ts >= \(lower) and ts < \(span.upper) order by ts limit \(rawRowsPerStatement)
                    ) r
                    """,
                    logger: logger
                )
                for try await pack in packs.decode(ByteBuffer?.self) {
                    guard var buffer = pack else { continue }
                    while buffer.readableBytes > 0 {
                        let time = try BinaryArray.int64(from: &buffer)
                        // Packed in the sorted subquery's order, as PostgreSQL aggregates, though SQL does
                        // not promise it (`string_agg(… order by ts)` would sort again): checked.
                        guard time >= lower else { throw BinaryArray.Malformed(description: "raw rows of series \(seriesID) packed out of time order") }
                        let version = versions ? try RowVersion.read(from: &buffer) : nil
                        try body(time, try BinaryArray.doubles(from: &buffer), version)
                        lower = time + 1
                        count += 1
                    }
                }
            }
        }
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
