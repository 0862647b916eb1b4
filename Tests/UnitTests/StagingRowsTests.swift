import SluiceModel
import Testing

@testable import Writer

@Suite struct StagingRowsTests {
    /// A statement takes the measurements whose values fit under the limit (the first always, however
    /// wide), and each row's bounds are 1-based and inclusive, as PostgreSQL's array slices are.
    @Test func columnsStopWhereTheValuesWouldPassTheLimit() {
        let measurements = [
            Measurement(tag: "a", time: 1, values: [1, 2]),
            Measurement(tag: "b", time: 2, values: [3]),
            Measurement(tag: "c", time: 3, values: [4, 5, 6]),
        ]
        let first = StagingRows.Columns(measurements[...], valueLimit: 4)
        #expect(first.times == [1, 2])
        #expect(first.values == [1, 2, 3])
        #expect(zip(first.firsts, first.lasts).map { [$0, $1] } == [[1, 2], [3, 3]])
        let rest = StagingRows.Columns(measurements[2...], valueLimit: 2)
        #expect(rest.tags == ["c"])
        #expect(rest.values == [4, 5, 6])
        #expect(zip(rest.firsts, rest.lasts).map { [$0, $1] } == [[1, 3]])
    }
}
