import SluiceModel
import Testing

@Suite struct SampleGridTests {
    /// The definition, computed independently with 128-bit integers.
    func expected(start: Int64, end: Int64, count: Int, k: Int) -> Int64 {
        Int64(Int128(start) + Int128(k) * (Int128(end) - Int128(start)) / Int128(count))
    }

    @Test func oneHourInAThousandSamplesIsEvery36Seconds() {
        let start: Int64 = 1_700_000_000_000_000_000
        let grid = SampleGrid(start: start, end: start + 3_600_000_000_000, count: 1000)
        #expect(grid.time(ofSample: 1) == start + 3_600_000_000)
        #expect(grid.time(ofSample: 1000) == start + 3_600_000_000_000)
        #expect(grid.times.count == 1000)
    }

    @Test(arguments: [
        (Int64(0), Int64(1_000), 7),
        (Int64(1_700_000_000_000_000_007), Int64(1_700_000_086_400_000_000), 1000),
        (Int64(5), Int64(Int64.max), 10_000),
        (Int64(0), Int64(Int64.max), 9_999),
        (Int64(123_456_789), Int64(123_456_789 + 600_000_000_001), 3),
    ])
    func everySampleMatchesTheDefinitionWithoutDrift(start: Int64, end: Int64, count: Int) {
        let grid = SampleGrid(start: start, end: end, count: count)
        for k in 1...count {
            #expect(grid.time(ofSample: k) == expected(start: start, end: end, count: count, k: k))
        }
        #expect(grid.time(ofSample: count) == end)
    }

    @Test func timesAreStrictlyIncreasingWhenTheWindowIsWiderThanTheCount() {
        let grid = SampleGrid(start: 10, end: 10 + 600_000_000_000, count: 10_000)
        let times = grid.times
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
    }
}
