import Logging
import PostgresNIO
import SluiceModel
import SluiceStorage

/// Puts a batch's measurements into `writer_staging` with one statement whose parameters travel in
/// PostgreSQL's binary format (`BinaryArrayParameter`): each value as its eight bytes, all of the batch's
/// values in one array that each row takes its slice of. `COPY … FROM STDIN`, whose only format in
/// PostgresNIO is text, had the writer print every value (`Double.description`, ~75 ns and an allocation
/// each, ten a message) and PostgreSQL parse it back.
enum StagingRows {
    /// Values per statement at most: a statement's parameters are one message, held whole on both sides
    /// (PostgreSQL refuses one over 1 GB), so a large batch of wide measurements goes in several.
    static let valuesPerStatement = 1 << 20

    static func insert(_ measurements: [Measurement], on connection: PostgresConnection, logger: Logger) async throws {
        var start = 0
        while start < measurements.count {
            let columns = Columns(measurements[start...], valueLimit: valuesPerStatement)
            let (values, domains, tags) = (
                BinaryArrayParameter.float8(columns.values), BinaryArrayParameter.text(columns.domains), BinaryArrayParameter.text(columns.tags)
            )
            let (times, firsts, lasts) = (
                BinaryArrayParameter.int8(columns.times), BinaryArrayParameter.int4(columns.firsts), BinaryArrayParameter.int4(columns.lasts)
            )
            // `with ordinality` numbers the rows in Kafka order: `seq`, by which the first of duplicates wins.
            try await connection.query(
                """
                insert into writer_staging (seq, domain, tag, ts, vals)
                select \(start) + u.seq, u.domain, u.tag, u.ts, (\(values)::float8[])[u.first:u.last]
                from unnest(\(domains)::text[], \(tags)::text[], \(times)::bigint[], \(firsts)::int[], \(lasts)::int[])
                    with ordinality as u(domain, tag, ts, first, last, seq)
                """,
                logger: logger
            )
            start += columns.times.count
        }
    }

    /// Rows column by column; `firsts` and `lasts` bound each row's values in `values`, from 1 as
    /// PostgreSQL's subscripts count.
    struct Columns {
        var domains: [String] = []
        var tags: [String] = []
        var times: [Int64] = []
        var firsts: [Int32] = []
        var lasts: [Int32] = []
        var values: [Double] = []

        /// The leading measurements whose values fit in `valueLimit`, and always the first.
        init(_ measurements: ArraySlice<Measurement>, valueLimit: Int) {
            for measurement in measurements {
                guard times.isEmpty || values.count + measurement.values.count <= valueLimit else { break }
                domains.append(measurement.domain)
                tags.append(measurement.tag)
                times.append(measurement.time)
                firsts.append(Int32(values.count + 1))
                values.append(contentsOf: measurement.values)
                lasts.append(Int32(values.count))
            }
        }
    }
}
