import Logging
import PostgresNIO
import SluiceModel
import SluiceStorage

/// What an `/api` aggregate over a window has to read, listed by one statement, so one snapshot and one
/// round trip stand for the five or six statements of a snapshot read (begin, marks, a listing per tier,
/// the raw listing, commit): under ingest every round trip is another wait for a busy core (dropping
/// only `begin` and `commit` took a tenth off the day's median, BENCHMARKS.md).
///
/// Covers the usual window only — no marked minute inside it: the tiers coarsest first, each from the
/// end of the coarser one's newest row, then the raw rows from the finest one's. A window with marks is
/// read step by step in a snapshot instead (`AggregateReader`), where each finer source also reads the
/// marked buckets the coarser one left.
struct WindowListing {
    /// A source's rows in `span`, in key order.
    struct Source {
        var span: Range<Int64>
        var rows: [RowListing]
    }

    /// Coarsest first, as asked.
    var tiers: [(tier: RollupTier, listed: Source)]
    var raw: Source

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
        var bindings = PostgresBindings(capacity: 4 + expected.count)
        bindings.append(seriesID)
        bindings.append(from)
        bindings.append(to)
        bindings.append(Int64(rawLimit + 1))
        // $1 series, $2 from, $3 to, $4 the raw rows' limit; source N starts at `lN.lower`, where the coarser
        // one's newest row ends (never before the coarser one's start), bounded for the plan by
        // `boundN` ($2, then `expected`).
        let starts = [from] + expected.map { max(from, min($0, to)) }
        var bounds = ["$2"]
        for start in starts.dropFirst() {
            bindings.append(start)
            bounds.append("$\(4 + bounds.count)")
        }
        var columns = [
            """
            (select count(*) from \(RollupMarks.table), (select \(RetentionFloor.rawFloorExpression) as floor) f
             where series_id = $1 and first_bucket < $3 and last_bucket > $2 - \(RollupTier.minute.step) and last_bucket >= f.floor)
            """
        ]
        var lowers = ["(select $2::int8 as lower) l0"]
        for (index, tier) in tiers.enumerated() {
            let rows = "\(tier.table) where series_id = $1 and bucket >= \(bounds[index]) and bucket >= l\(index).lower and bucket < $3"
            columns.append("l\(index).lower")
            columns.append("(select \(RowListing.packed) from (select bucket as key, xmin, ctid from \(rows) order by bucket) r)")
            lowers.append(
                """
                lateral (select greatest(l\(index).lower, (select max(bucket) + \(tier.step) from \(rows))) as lower) l\(index + 1)
                """
            )
        }
        let last = tiers.count
        columns.append("l\(last).lower")
        columns.append(
            """
            (select \(RowListing.packed) from (select ts as key, xmin, ctid from measurements
             where series_id = $1 and ts >= \(bounds[last]) and ts >= l\(last).lower and ts < $3 order by ts limit $4) r)
            """
        )
        let sql = "select \(columns.joined(separator: ",\n")) from \(lowers.joined(separator: " cross join "))"
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        var listed: (marks: Int64, sources: [Source])?
        var startsEarly = false
        for try await row in rows {
            var cells = row.makeIterator()
            func cell() throws -> PostgresCell {
                guard let cell = cells.next() else { throw BinaryArray.Malformed(description: "a window listing is missing a column") }
                return cell
            }
            let marks = try cell().decode(Int64.self)
            var sources: [Source] = []
            for index in 0...tiers.count {
                let lower = min(try cell().decode(Int64.self), to)
                let rows = try RowListing.unpack(try cell().decode(ByteBuffer?.self))
                // Starting before its bound, a source's listing would miss the rows in between.
                if lower < starts[index] { startsEarly = true }
                sources.append(Source(span: lower..<to, rows: rows))
            }
            listed = (marks, sources)
        }
        guard let (marks, sources) = listed, marks == 0, !startsEarly, let raw = sources.last, raw.rows.count <= rawLimit else { return nil }
        return WindowListing(tiers: Array(zip(tiers, sources.dropLast())), raw: raw)
    }
}
