import Logging
import PostgresNIO
import SluiceStorage
import Synchronization

/// As-of answers where the raw rows are gone (below the raw floor, `RetentionFloor`), from the tier rows
/// that outlive them. A tier row keeps its bucket's first and last point whole, so the newest point at
/// or before an instant is known exactly when the instant's bucket holds no point (the previous row's
/// last), holds only points at or before it (its last), or begins with a point at the instant (its
/// first) — always at bucket boundaries, which is where a dashboard's coarse grids fall. Otherwise the
/// bucket's points lie on both sides of the instant and the newest one before it is gone: the answer is
/// the bucket's first point, with its own time, the newest one still known.
///
/// The minute tier answers down to its own floor, the hour tier below that.
struct TierAsOf {
    let client: PostgresClient

    /// Where each tier's dropped partitions end (nil: nothing dropped).
    struct Floors: Equatable {
        var raw: Int64?
        var minute: Int64?
    }

    /// The floors as PostgreSQL holds them now.
    static func floors(_ client: PostgresClient, logger: Logger) async throws -> Floors {
        try await client.withConnection { connection in
            Floors(
                raw: try await RetentionFloor.floor(of: .raw, on: connection, logger: logger),
                minute: try await RetentionFloor.floor(of: .minute, on: connection, logger: logger)
            )
        }
    }

    /// For each time (none negative), the newest point at or before it that the tiers know, or nil when they
    /// hold none that early.
    func points(seriesID: Int64, at times: [Int64], minuteFloor: Int64?, logger: Logger) async throws -> [(time: Int64, values: [Double])?] {
        var answers = [(time: Int64, values: [Double])?](repeating: nil, count: times.count)
        let belowMinutes = times.indices.filter { index in minuteFloor.map { times[index] < $0 } ?? false }
        let fromMinutes = times.indices.filter { index in minuteFloor.map { times[index] >= $0 } ?? true }
        for (tier, indices) in [(RollupTier.minute, fromMinutes), (RollupTier.hour, belowMinutes)] where !indices.isEmpty {
            let found = try await points(seriesID: seriesID, at: indices.map { times[$0] }, tier: tier, logger: logger)
            for (index, point) in zip(indices, found) { answers[index] = point }
        }
        return answers
    }

    /// One probe per time in `tier`: the instant's bucket, the tier's previous row, and (for the minute
    /// tier) the hour tier's row before the instant's hour, for series whose older minutes are gone.
    private func points(seriesID: Int64, at times: [Int64], tier: RollupTier, logger: Logger) async throws -> [(time: Int64, values: [Double])?] {
        let hour = RollupTier.hour
        let rows = try await client.query(
            """
            select c.first_ts, c.first_point, c.last_ts, c.last_point, p.last_ts, p.last_point, h.last_ts, h.last_point
            from unnest(\(times)::bigint[]) with ordinality as g(t, k)
            left join \(unescaped: tier.table) c on c.series_id = \(seriesID) and c.bucket = g.t / \(tier.step) * \(tier.step)
            left join lateral (
                select last_ts, last_point from \(unescaped: tier.table)
                where series_id = \(seriesID) and bucket < g.t / \(tier.step) * \(tier.step) order by bucket desc limit 1
            ) p on true
            left join lateral (
                select last_ts, last_point from \(unescaped: hour.table)
                where \(tier.step < hour.step) and series_id = \(seriesID) and bucket < g.t / \(hour.step) * \(hour.step) order by bucket desc limit 1
            ) h on true
            order by g.k
            """,
            logger: logger
        )
        var answers: [(time: Int64, values: [Double])?] = []
        answers.reserveCapacity(times.count)
        for try await row in rows.decode((Int64?, [Double]?, Int64?, [Double]?, Int64?, [Double]?, Int64?, [Double]?).self) {
            let time = times[answers.count]
            let (firstTime, firstPoint, lastTime, lastPoint, previousTime, previousPoint, hourTime, hourPoint) = row
            if let lastTime, let lastPoint, lastTime <= time {
                answers.append((lastTime, lastPoint))
            } else if let firstTime, let firstPoint, firstTime <= time, !firstPoint.isEmpty {
                answers.append((firstTime, firstPoint))
            } else if let previousTime, let previousPoint {
                answers.append((previousTime, previousPoint))
            } else if let hourTime, let hourPoint {
                answers.append((hourTime, hourPoint))
            } else {
                answers.append(nil)
            }
        }
        return answers
    }
}

/// The floors read at most once a second, so an `/api` request does not pay a round trip for figures that
/// move once a day: for up to a second after a drop, samples in the dropped day answer as if it had none.
final class RetentionFloorCache: Sendable {
    private let cached = Mutex<(floors: TierAsOf.Floors, read: ContinuousClock.Instant)?>(nil)

    func floors(_ client: PostgresClient, logger: Logger) async throws -> TierAsOf.Floors {
        let now = ContinuousClock.now
        if let cached = cached.withLock({ $0 }), now - cached.read < .seconds(1) { return cached.floors }
        let floors = try await TierAsOf.floors(client, logger: logger)
        cached.withLock { $0 = (floors, now) }
        return floors
    }
}
