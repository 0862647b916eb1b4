import SluiceModel
import Testing

@testable import Bridge

@Suite struct UnknownSeriesTests {
    let now = ContinuousClock.now

    @Test func aSeriesIsUnknownUntilItsDeadlineOrUntilRemoved() {
        var unknown = UnknownSeries()
        let series = SeriesKey(domain: "d", tag: "t")
        unknown.insert(series, until: now + .seconds(60), keepingAtMost: 10)
        #expect(unknown.contains(series, at: now))
        #expect(!unknown.contains(series, at: now + .seconds(61)))
        unknown.remove(series)
        #expect(!unknown.contains(series, at: now))
    }

    @Test func aFloodOfUnknownSeriesKeepsOnlyTheNewest() {
        var unknown = UnknownSeries()
        for index in 0..<50_000 {
            unknown.insert(SeriesKey(domain: "d", tag: "t\(index)"), until: now + .seconds(60), keepingAtMost: 1000)
        }
        #expect(unknown.count == 1000)
        #expect(unknown.contains(SeriesKey(domain: "d", tag: "t49999"), at: now))
        #expect(!unknown.contains(SeriesKey(domain: "d", tag: "t48999"), at: now))
    }
}
