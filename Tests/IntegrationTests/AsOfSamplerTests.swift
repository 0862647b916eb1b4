import Logging
import PostgresNIO
import Query
import SluiceModel
import SluiceStorage
import SluiceTestSupport
import Testing
import Writer

import struct Foundation.Date

/// `/api`'s as-of samples against the definition — each sample holds the newest stored point at or before
/// its time — over series whose spacing changes under the sampler's feet: bursts milliseconds apart,
/// a steady second, gaps of minutes, a day partition boundary, grids finer than the data and coarser,
/// windows that start before the first point or after the last.
@Suite(.timeLimit(.minutes(2)))
struct AsOfSamplerTests {
    let logger = Logger(label: "as-of-sampler-test")
    let second: Int64 = 1_000_000_000
    let minute: Int64 = 60_000_000_000

    @Test func everySampleHoldsTheNewestPointAtOrBeforeIt() async throws {
        try await TestDatabase.with { _, client in
            try await SchemaMigrator(partitionCount: 2).migrate(client, logger: logger)
            let now = Int64(Date().timeIntervalSince1970 * 1e9)
            _ = await PartitionKeeper(retention: Retention(periods: [:])).maintain(client, now: now, logger: logger)
            // Around the start of today's raw partition, so windows cross from one day into the next.
            let boundary = TimePartitionedTable.raw.slotStart(of: now)
            var generator = SeededGenerator(seed: 17)
            var times: [Int64] = []
            var time = boundary - 20 * minute
            while time < boundary + 20 * minute {
                times.append(time)
                switch Int.random(in: 0..<10, using: &generator) {
                case 0..<4: time += Int64.random(in: 1_000_000...20_000_000, using: &generator)  // a burst
                case 4..<8: time += second
                case 8: time += Int64.random(in: 10...90, using: &generator) * second
                default: time += Int64.random(in: 2...6, using: &generator) * minute  // a gap
                }
            }
            let points = times.enumerated().map { index, time in Measurement(tag: "spaced", time: time, values: [Double(index), Double(index % 7)]) }
            let store = BatchStore(client: client, consumerGroup: "g")
            for start in stride(from: 0, to: points.count, by: 500) {
                _ = try await store.store(Array(points[start..<min(start + 500, points.count)]), nextOffsets: [:], logger: logger)
            }
            var series: Int64 = 0
            for try await id in try await client.query("select id from series where tag = 'spaced'").decode(Int64.self) { series = id }

            let sampler = AsOfSampler(client: client)
            var grids = [
                SampleGrid(start: boundary - 30 * minute, end: boundary + 30 * minute, count: 1000),  // before the first point on
                SampleGrid(start: boundary - 5 * minute, end: boundary + 5 * minute, count: 1000),
                SampleGrid(start: boundary - 2 * second, end: boundary + 2 * second, count: 1000),  // finer than the bursts
                SampleGrid(start: boundary + 25 * minute, end: boundary + 26 * minute, count: 10),  // after the last point
                SampleGrid(start: boundary, end: boundary + 500, count: 1000),  // sample times repeat
            ]
            for _ in 0..<25 {
                let start = Int64.random(in: (boundary - 25 * minute)...(boundary + 20 * minute), using: &generator)
                let span = Int64.random(in: 1...(30 * minute), using: &generator)
                grids.append(SampleGrid(start: start, end: start + span, count: Int.random(in: 1...1000, using: &generator)))
            }
            var compared = 0
            var heldFromBefore = 0
            for grid in grids {
                let samples = try await sampler.samples(seriesID: series, grid: grid, logger: logger)
                #expect(samples.map(\.time) == grid.times)
                for sample in samples {
                    let expected = points.last { $0.time <= sample.time }
                    #expect(
                        sample.measuredAt == expected?.time && sample.values == expected?.values,
                        "at \(sample.time) in \(grid): \(String(describing: sample.measuredAt)), expected \(String(describing: expected?.time))"
                    )
                    if let measuredAt = sample.measuredAt, measuredAt < grid.start { heldFromBefore += 1 }
                    compared += 1
                }
            }
            #expect(compared > 10_000)
            #expect(heldFromBefore > 0, "some samples hold a point from before their window")
        }
    }
}
