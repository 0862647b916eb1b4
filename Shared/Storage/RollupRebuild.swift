import Logging
import PostgresNIO
import SluiceModel

/// Rebuilds the rollup tiers from the raw rows, for rows that reached `measurements` without the writer
/// (loaded by SQL): the writer keeps tiers only for what it stores, and `/api` trusts a tier up to its
/// newest row. Each series' rows are streamed in time order and folded with the writer's own rules
/// (`BucketState`, `RollupTier.closingGrace`), one transaction per series, so memory stays flat and
/// readers see a series' old tiers or its new ones.
public enum RollupRebuild {
    /// Rows read per statement: one day.
    static let chunkSpan: Int64 = 86_400_000_000_000

    /// - Parameter progress: told after each series: how many are done, of how many, and rows read so far.
    /// - Returns: the tier rows written, per tier.
    public static func rebuild(
        _ client: PostgresClient, logger: Logger, progress: @Sendable (_ done: Int, _ of: Int, _ rows: Int) -> Void = { _, _, _ in }
    ) async throws -> [(tier: RollupTier, rows: Int)] {
        var ids: [Int64] = []
        for try await id in try await client.query("select id from series order by id", logger: logger).decode(Int64.self) { ids.append(id) }
        var written = RollupTier.all.map { ($0, 0) }
        var rowsRead = 0
        for (done, id) in ids.enumerated() {
            let (counts, read) = try await client.withTransaction(logger: logger) { connection in
                try await rebuild(series: id, on: connection, logger: logger)
            }
            for index in written.indices { written[index].1 += counts[index] }
            rowsRead += read
            progress(done + 1, ids.count, rowsRead)
        }
        return written
    }

    /// Rebuilds one series' tiers. - Returns: tier rows written (per `RollupTier.all`) and raw rows read.
    static func rebuild(series id: Int64, on connection: PostgresConnection, logger: Logger) async throws -> ([Int], Int) {
        try await connection.query("set local statement_timeout = 0", logger: logger)
        let minute = RollupTier.minute
        let hour = RollupTier.hour
        // Tier rows older than the raw rows kept are all that is left of those times: they stay. The
        // rebuild starts at the first whole hour from the raw floor, so every hour it writes is whole.
        try await RetentionFloor.holdShared(on: connection, logger: logger)
        let start = try await RetentionFloor.raw(on: connection, logger: logger).map { hour.bucket(of: $0 + hour.step - 1) } ?? .min
        for tier in RollupTier.all {
            try await connection.query("delete from \(unescaped: tier.table) where series_id = \(id) and bucket >= \(start)", logger: logger)
        }
        // Everything from `start` is rebuilt from the rows as they stand, so no mark is left to honour (one
        // below it cannot be); one a writer commits meanwhile is a row this statement does not see, and stays.
        try await connection.query("delete from \(unescaped: RollupMarks.table) where series_id = \(id)", logger: logger)
        var newest: Int64?
        for try await time in try await connection.query("select max(ts) from measurements where series_id = \(id)", logger: logger).decode(Int64?.self) {
            newest = time
        }
        guard let newest else { return (RollupTier.all.map { _ in 0 }, 0) }
        // Only closed buckets get rows, as the writer closes them.
        let closedBefore = minute.bucket(of: newest - RollupTier.closingGrace)
        var minutes: [(series: Int64, bucket: Int64, state: BucketState)] = []
        var hours: [(series: Int64, bucket: Int64, state: BucketState)] = []
        var written = [0, 0]
        var open: (bucket: Int64, state: BucketState)?
        var openHour: (bucket: Int64, state: BucketState)?
        var read = 0

        func closeHour() {
            guard let done = openHour else { return }
            openHour = nil
            guard done.bucket + hour.step <= closedBefore else { return }
            hours.append((id, done.bucket, done.state))
        }
        func closeMinute() {
            guard let done = open else { return }
            open = nil
            guard done.bucket < closedBefore else { return }
            minutes.append((id, done.bucket, done.state))
            // Hours fold their minutes in order, as the writer folds them from the minute rows.
            let hourBucket = hour.bucket(of: done.bucket)
            if let current = openHour, current.bucket != hourBucket { closeHour() }
            if openHour != nil {
                openHour?.state.append(done.state)
            } else {
                openHour = (hourBucket, done.state)
            }
        }
        func flush(_ states: inout [(series: Int64, bucket: Int64, state: BucketState)], into tier: RollupTier, counted: inout Int) async throws {
            guard !states.isEmpty else { return }
            try await RollupRows.upsert(states, into: tier, on: connection, logger: logger)
            counted += states.count
            states.removeAll(keepingCapacity: true)
        }

        // A day of rows at a time: a connection runs one statement at a time, so the tier rows of a day are
        // written once its rows have been read, and memory holds one day's buckets, however long the series.
        var from: Int64? = try await firstTime(of: id, from: start, on: connection, logger: logger)
        while let low = from {
            let high = low > Int64.max - chunkSpan ? Int64.max : low + chunkSpan
            let rows = try await connection.query(
                "select ts, vals from measurements where series_id = \(id) and ts >= \(low) and ts < \(high) order by ts", logger: logger
            )
            for try await (time, values) in rows.decode((Int64, [Double]).self) {
                read += 1
                let bucket = minute.bucket(of: time)
                if open?.bucket == bucket {
                    open?.state.add(time: time, values: values)
                } else {
                    closeMinute()
                    open = (bucket, BucketState(time: time, values: values))
                }
            }
            try await flush(&minutes, into: minute, counted: &written[0])
            try await flush(&hours, into: hour, counted: &written[1])
            from = high == Int64.max ? nil : try await firstTime(of: id, from: high, on: connection, logger: logger)
        }
        closeMinute()
        closeHour()
        try await flush(&minutes, into: minute, counted: &written[0])
        try await flush(&hours, into: hour, counted: &written[1])
        return (written, read)
    }

    /// The time of the series' first row at or after `time`.
    static func firstTime(of id: Int64, from time: Int64, on connection: PostgresConnection, logger: Logger) async throws -> Int64? {
        var first: Int64?
        let rows = try await connection.query("select min(ts) from measurements where series_id = \(id) and ts >= \(time)", logger: logger)
        for try await value in rows.decode(Int64?.self) { first = value }
        return first
    }
}
