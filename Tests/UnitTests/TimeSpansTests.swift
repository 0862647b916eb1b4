import SluiceModel
import Testing

/// The span arithmetic `/api` uses to decide what it reads from which tier.
@Suite struct TimeSpansTests {
    typealias Span = TimeSpans.Span

    @Test func spansAreSortedMergedAndIntersected() {
        let set = TimeSpans([Span(lower: 50, upper: 60), Span(lower: 0, upper: 10), Span(lower: 10, upper: 20), Span(lower: 30, upper: 30)])
        #expect(set.spans == [Span(lower: 0, upper: 20), Span(lower: 50, upper: 60)])
        #expect(set.intersection(TimeSpans(from: 15, to: 55)).spans == [Span(lower: 15, upper: 20), Span(lower: 50, upper: 55)])
        #expect(set.intersection(TimeSpans(from: 20, to: 50)).isEmpty)
        #expect(set.union(TimeSpans(from: 20, to: 50)).spans == [Span(lower: 0, upper: 60)])
        #expect(set.overlaps(19, 21) && !set.overlaps(20, 50) && set.overlaps(49, 51))
    }

    @Test func wideningCoversWholeBuckets() {
        let minute = TimeSpans([Span(lower: 120, upper: 180), Span(lower: 3_660, upper: 3_720)])
        #expect(minute.widened(to: 3_600).spans == [Span(lower: 0, upper: 7_200)])
        #expect(TimeSpans(from: 3_600, to: 3_601).widened(to: 60).spans == [Span(lower: 3_600, upper: 3_660)])
    }
}
