import Logging
import PostgresNIO
import SluiceModel
import SluiceStorage

/// What an aggregate over a window has to read, listed by one statement, so one snapshot and one round
/// trip stand for the five or six statements of a snapshot read (begin, marks, a listing per tier, the
/// raw listing, commit): under ingest every round trip is another wait for a busy core (dropping only
/// `begin` and `commit` took a tenth off the day's median, BENCHMARKS.md).
///
/// Covers the usual window only — no marked minute inside it: the tiers coarsest first, each from the
/// end of the coarser one's newest row, then the raw rows from the finest one's. A window with marks is
/// read step by step in a snapshot instead (`AggregateReader`), where each finer source also reads the
/// marked buckets the coarser one left.
///
/// The window need not start or end on the tiers' grid (a KairosDB range clipped by the query's start
/// and end): a source lists only rows wholly inside it, and each finer source also lists its **head**,
/// the part before the coarser source's first whole bucket (for the raw rows, the partial minute at the
/// start).
struct WindowListing {
    /// A source's rows whose keys lie in `span`, in key order.
    struct Source {
        var span: Range<Int64>
        var rows: [RowListing]
    }

    /// Coarsest first, as asked; a tier with a head has two entries, its head first.
    var tiers: [(tier: RollupTier, listed: Source)]
    /// The head, if any, then the rest: in time order.
    var raw: [Source]

    /// Lists the window `from..<to` for `tiers` (coarsest first), or nil when a mark lies in it, when
    /// more than `rawLimit` raw rows do (the snapshot path reads those without keeping them), or when a
    /// source starts before the caller expected.
    /// - Parameter expected: for each source after the first (the finer tiers, then the raw rows), where
    ///   the caller expects it to start: the end of the coarser source's newest row it keeps. PostgreSQL
    ///   plans with these bounds; a bound it learns only while executing (where the coarser source's
    ///   newest row ends) prunes no partitions from the plan, and planning every day of a month's raw
    ///   rows cost more than all the round trips saved.
    static func read(
        seriesID: Int64, from: Int64, to: Int64, tiers: [RollupTier], expected: [Int64], rawLimit: Int, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> WindowListing? {
        precondition(expected.count == tiers.count, "one expected start for each source after the first")
        var bindings = PostgresBindings(capacity: 4 + 3 * expected.count)
        bindings.append(seriesID)
        bindings.append(from)
        bindings.append(to)
        bindings.append(Int64(rawLimit + 1))
        var count = 4
        func bound(_ value: Int64) -> String {
            bindings.append(value)
            count += 1
            return "$\(count)"
        }
        // $1 series, $2 from, $3 to, $4 the raw rows' limit. Source N (the tiers, then the raw rows) lists
        // its rows wholly before `ends[N]`: its head, before `heads[N]` (the coarser source's first whole
        // bucket: none for the coarsest source), and its tail from `lN.lower`, where the coarser one's
        // newest row ends (never before the coarser one's start), bounded for the plan by `starts[N]`.
        let ends = tiers.map { to - $0.step + 1 } + [to]
        let heads = [from] + tiers.map { $0.firstBucket(from: from) }
        let starts = [from] + zip(expected, heads.dropFirst()).map { max(from, min($0, to), $1) }
        let headEnds = zip(heads, ends).map { max(from, min($0, $1)) }
        var columns = [
            """
            (select count(*) from \(RollupMarks.table), (select \(RetentionFloor.rawFloorExpression) as floor) f
             where series_id = $1 and first_bucket < $3 and last_bucket > $2 - \(RollupTier.minute.step) and last_bucket >= f.floor)
            """
        ]
        var lowers = ["(select $2::int8 as lower) l0"]
        /// Source `index`'s rows of the series in `table` by `key`: in its head, if it has one, and in its tail.
        func rows(_ index: Int, _ table: String, key: String) -> (head: String?, tail: String) {
            let tail =
                "\(table) where series_id = $1 and \(key) >= \(bound(starts[index])) and \(key) >= l\(index).lower and \(key) < \(bound(ends[index]))"
            guard heads[index] > from else { return (nil, tail) }
            return ("\(table) where series_id = $1 and \(key) >= $2 and \(key) < \(bound(headEnds[index]))", tail)
        }
        func listing(_ rows: String, key: String, limit: String = "") -> String {
            "(select \(RowListing.packed) from (select \(key) as key, xmin, ctid from \(rows) order by \(key)\(limit)) r)"
        }
        for (index, tier) in tiers.enumerated() {
            let (head, tail) = rows(index, tier.table, key: "bucket")
            columns.append("l\(index).lower")
            if let head { columns.append(listing(head, key: "bucket")) }
            columns.append(listing(tail, key: "bucket"))
            let newest = ([tail] + (head.map { [$0] } ?? [])).map { "(select max(bucket) + \(tier.step) from \($0))" }
            lowers.append("lateral (select greatest(l\(index).lower, \(newest.joined(separator: ", "))) as lower) l\(index + 1)")
        }
        let last = tiers.count
        let (rawHead, rawTail) = rows(last, "measurements", key: "ts")
        columns.append("l\(last).lower")
        if let rawHead { columns.append(listing(rawHead, key: "ts")) }
        columns.append(listing(rawTail, key: "ts", limit: " limit $4"))
        let sql = "select \(columns.joined(separator: ",\n")) from \(lowers.joined(separator: " cross join "))"
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        var listed: (marks: Int64, sources: [[Source]])?
        var startsEarly = false
        for try await row in rows {
            var cells = row.makeIterator()
            func cell() throws -> PostgresCell {
                guard let cell = cells.next() else { throw BinaryArray.Malformed(description: "a window listing is missing a column") }
                return cell
            }
            let marks = try cell().decode(Int64.self)
            var sources: [[Source]] = []
            for index in 0...tiers.count {
                let lower = try cell().decode(Int64.self)
                var source: [Source] = []
                if heads[index] > from {
                    source.append(Source(span: from..<headEnds[index], rows: try RowListing.unpack(try cell().decode(ByteBuffer?.self))))
                }
                // Starting before its bound and after its head, a source's tail would miss the rows in between.
                if max(lower, heads[index]) < starts[index] { startsEarly = true }
                let start = min(max(lower, starts[index]), ends[index])
                source.append(Source(span: start..<ends[index], rows: try RowListing.unpack(try cell().decode(ByteBuffer?.self))))
                sources.append(source)
            }
            listed = (marks, sources)
        }
        guard let (marks, sources) = listed, marks == 0, !startsEarly, let raw = sources.last, raw.reduce(0, { $0 + $1.rows.count }) <= rawLimit else {
            return nil
        }
        return WindowListing(tiers: zip(tiers, sources.dropLast()).flatMap { tier, listed in listed.map { (tier, $0) } }, raw: raw)
    }
}
