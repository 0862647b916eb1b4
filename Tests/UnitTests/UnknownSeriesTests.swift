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

    @Test func anUnknownAnswerIsRememberedOnlyWhenNoChangeNamedTheSeriesWhileItWasAsked() {
        var unknown = UnknownSeries()
        let series = SeriesKey(domain: "d", tag: "t")
        let deadline = now + .seconds(60)
        /// Begins an ask; false when the series was answered unknown from memory.
        func begin() -> Bool { unknown.beginAsking(series, at: now) }
        func endUnknown() { unknown.endAsking(series, answeredUnknown: true, until: deadline, keepingAtMost: 10) }

        #expect(begin())
        endUnknown()
        #expect(unknown.contains(series, at: now))
        #expect(!begin())

        // Two asks overlap and a change record arrives during the first: neither answer is remembered.
        unknown.remove(series)
        #expect(begin())
        unknown.remove(series)
        #expect(begin())
        endUnknown()
        endUnknown()
        #expect(!unknown.contains(series, at: now))
        // Once no ask is in flight, the next unknown answer is remembered again.
        #expect(begin())
        endUnknown()
        #expect(unknown.contains(series, at: now))

        // Everything forgotten while an ask is in flight (changes may have been missed): its answer is
        // not remembered.
        unknown.removeAll()
        #expect(begin())
        unknown.removeAll()
        endUnknown()
        #expect(!unknown.contains(series, at: now))
    }
}
