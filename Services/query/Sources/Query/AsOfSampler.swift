import Logging
import PostgresNIO
import SluiceModel
import SluiceStorage

/// One sample: its time, and the measurement at or before it (nil when the series has none that early).
public struct Sample: Sendable, Equatable {
    public var time: Int64
    public var measuredAt: Int64?
    public var values: [Double]?

    public init(time: Int64, measuredAt: Int64?, values: [Double]?) {
        self.time = time
        self.measuredAt = measuredAt
        self.values = values
    }
}

/// As-of sampling in PostgreSQL: for each sample time, one probe of the (series_id, ts) index for the
/// latest row at or before it, like kdb+'s `aj`. Cost grows with the number of samples, not with the
/// number of rows in the window, which is what keeps busy series fast.
public struct AsOfSampler: Sendable {
    private let client: PostgresClient
    private let floors = RetentionFloorCache()

    public init(client: PostgresClient) {
        self.client = client
    }

    public func samples(seriesID: Int64, grid: SampleGrid, logger: Logger) async throws -> [Sample] {
        let times = grid.times
        guard let first = times.first, let last = times.last else { return [] }
        // Every probe's answer lies between the newest row at or before the first sample and the last
        // sample: bounded by both as constants, the plan keeps only the day partitions the window touches
        // instead of planning over every day kept and pruning them again for each probe (scripts/bench-partitions).
        let preceding = PrecedingRow(client: client)
        var low = first
        var precedingUnknown = false
        switch try await preceding.nearby(seriesID: seriesID, before: first, inclusive: true, logger: logger) {
        case .row(let time, _): low = time
        case .none: break
        case .unknown: precedingUnknown = true
        }
        // One bytea for the whole window: per sample a byte saying whether a row was found, then its time
        // and values (`int8send`, `array_send`). Read row by row, PostgresNIO's per-row work for the 1000
        // rows was a large share of the service's time (as for raw rows, `AggregateReader.readRows`).
        let packs = try await client.query(
            """
            select string_agg(case when m.ts is null then '\\x00'::bytea else '\\x01'::bytea || int8send(m.ts) || array_send(m.vals) end, ''::bytea order by g.k)
            from unnest(\(times)::bigint[]) with ordinality as g(t, k)
            left join lateral (
                select ts, vals from measurements
                where series_id = \(seriesID) and ts >= \(low) and ts <= \(last) and ts <= g.t order by ts desc limit 1
            ) m on true
            """,
            logger: logger
        )
        var samples: [Sample] = []
        samples.reserveCapacity(times.count)
        for try await pack in packs.decode(ByteBuffer?.self) {
            guard var buffer = pack else { continue }
            while let found = buffer.readInteger(as: UInt8.self) {
                guard samples.count < times.count else { throw BinaryArray.Malformed(description: "more samples than times") }
                let time = times[samples.count]
                if found == 0 {
                    samples.append(Sample(time: time, measuredAt: nil, values: nil))
                } else {
                    samples.append(Sample(time: time, measuredAt: try BinaryArray.int64(from: &buffer), values: try BinaryArray.doubles(from: &buffer)))
                }
            }
        }
        guard samples.count == times.count else { throw BinaryArray.Malformed(description: "\(samples.count) samples for \(times.count) times") }
        // With rows in the window, `unknown` means there is none before it (see `PrecedingRow`); with none,
        // every sample holds the newest row before the window, if any.
        if precedingUnknown, samples.allSatisfy({ $0.measuredAt == nil }),
            let row = try await preceding.anywhere(seriesID: seriesID, atOrBefore: first, logger: logger)
        {
            for index in samples.indices {
                samples[index].measuredAt = row.time
                samples[index].values = row.values
            }
        }
        try await answerPastRawRetention(&samples, seriesID: seriesID, logger: logger)
        return samples
    }

    /// Samples before the raw floor, and those that found no raw row (their answer, if any, lies before
    /// the floor), answered from the tiers (`TierAsOf`).
    private func answerPastRawRetention(_ samples: inout [Sample], seriesID: Int64, logger: Logger) async throws {
        let floors = try await floors.floors(client, logger: logger)
        guard let rawFloor = floors.raw, rawFloor > 0 else { return }
        let needing = samples.indices.filter { samples[$0].time >= 0 && (samples[$0].time < rawFloor || samples[$0].values == nil) }
        guard !needing.isEmpty else { return }
        // A sample after the floor that found no raw row has none in [floor, time]: its answer is the
        // newest point before the floor.
        let times = needing.map { min(samples[$0].time, rawFloor - 1) }
        let points = try await TierAsOf(client: client).points(seriesID: seriesID, at: times, minuteFloor: floors.minute, logger: logger)
        for (index, point) in zip(needing, points) {
            samples[index].measuredAt = point?.time
            samples[index].values = point?.values
        }
    }
}
