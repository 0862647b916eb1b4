import Logging
import PostgresNIO
import SluiceStorage

/// The newest row of a series before a time, found without a search over every day kept.
///
/// `measurements` has a partition per day, and a search with no lower bound makes PostgreSQL plan (and,
/// on a new connection, load the catalog of) every day kept. So the day before the time is searched
/// first; then the hour tier says where the newest closed hour before it lies, and that range is searched.
/// When neither finds anything the answer is `unknown`: the series has no closed hour before the time
/// (usually it is younger than that). The writer closes an hour, giving it a tier row, in the transaction
/// that stores a point of the series 5 s past its end (`RollupTier.closingGrace`); so a row older than a
/// day before the time could only lie in an hour never closed, which means the series has no row after
/// that hour at all. A caller that finds rows after the time therefore knows there is none before it;
/// one that finds none asks `anywhere`, the one search over all days.
struct PrecedingRow {
    static let firstLook: Int64 = 86_400_000_000_000

    enum Found: Equatable {
        case row(time: Int64, values: [Double])
        /// There is none (older rows, if any, are past raw retention).
        case none
        /// None, if the series has any row after the time; otherwise ask `anywhere`.
        case unknown
    }

    let client: PostgresClient

    /// The newest row with `ts <= time` (`inclusive`) or `ts < time`.
    func nearby(seriesID: Int64, before time: Int64, inclusive: Bool, logger: Logger) async throws -> Found {
        guard inclusive || time > .min else { return .none }
        let upper = inclusive ? time : time - 1
        let dayBefore = upper > .min + Self.firstLook ? upper - Self.firstLook : .min
        if let row = try await newest(seriesID: seriesID, from: dayBefore, through: upper, logger: logger) { return .row(time: row.0, values: row.1) }
        // The newest closed hour holding a row at or before the time: an hour that starts before it but
        // whose rows all come after it (the time falls inside the hour) would point at an empty range.
        let hours = try await client.query(
            """
            select bucket from \(unescaped: RollupTier.hour.table)
            where series_id = \(seriesID) and bucket <= \(upper) and first_ts <= \(upper) order by bucket desc limit 1
            """,
            logger: logger
        )
        var closedHour: Int64?
        for try await bucket in hours.decode(Int64.self) { closedHour = bucket }
        guard let closedHour else { return .unknown }
        if let row = try await newest(seriesID: seriesID, from: closedHour, through: upper, logger: logger) { return .row(time: row.0, values: row.1) }
        return .none
    }

    /// The newest row with `ts <= time`, searched over every day kept.
    func anywhere(seriesID: Int64, atOrBefore time: Int64, logger: Logger) async throws -> (time: Int64, values: [Double])? {
        try await newest(seriesID: seriesID, from: .min, through: time, logger: logger).map { (time: $0.0, values: $0.1) }
    }

    private func newest(seriesID: Int64, from low: Int64, through high: Int64, logger: Logger) async throws -> (Int64, [Double])? {
        let rows = try await client.query(
            """
            select ts, vals from measurements
            where series_id = \(seriesID) and ts <= \(high) and ts >= \(low) order by ts desc limit 1
            """,
            logger: logger
        )
        for try await row in rows.decode((Int64, [Double]).self) { return row }
        return nil
    }
}
