import SluiceModel
import SluiceStorage
import Testing

@testable import Writer

/// Which tier a step reads, and how the writer groups and orders a batch's points before rolling them up.
@Suite struct RollupSelectionTests {
    let second: Int64 = 1_000_000_000

    @Test func theCoarsestTierThatDividesTheStepAndTheStart() {
        let day = 86_400 * second
        #expect(RollupTier.coarsest(dividing: 60 * second, from: day) == .minute)
        #expect(RollupTier.coarsest(dividing: 300 * second, from: day) == .minute)
        #expect(RollupTier.coarsest(dividing: 5400 * second, from: day) == .minute)  // 90 min: not whole hours
        #expect(RollupTier.coarsest(dividing: 3600 * second, from: day) == .hour)
        #expect(RollupTier.coarsest(dividing: 86_400 * second, from: day) == .hour)
        #expect(RollupTier.coarsest(dividing: 30 * second, from: day) == nil)
        #expect(RollupTier.coarsest(dividing: 90 * second, from: day) == nil)
        #expect(RollupTier.coarsest(dividing: 60 * second + 1, from: day) == nil)
        // Whole hours from 10:37 are minute buckets; from a second past a minute, no tier's.
        #expect(RollupTier.coarsest(dividing: 3600 * second, from: day + 637 * 60 * second) == .minute)
        #expect(RollupTier.coarsest(dividing: 3600 * second, from: day + 1) == nil)
    }

    @Test func bucketsAreAlignedToTheEpoch() {
        #expect(RollupTier.minute.bucket(of: 119 * second) == 60 * second)
        #expect(RollupTier.hour.bucket(of: 7199 * second) == 3600 * second)
        #expect(RollupTier.minute.bucket(of: 60 * second) == 60 * second)
    }

    @Test func pointsAreOrderedWithTheFirstOfEqualTimesKept() {
        let measurements = [
            Measurement(tag: "a", time: 5, values: [5]), Measurement(tag: "b", time: 1, values: [1]),
            Measurement(tag: "a", time: 3, values: [3]), Measurement(tag: "a", time: 5, values: [-5]),
            Measurement(tag: "a", time: 4, values: [4]), Measurement(tag: "a", time: 3, values: [-3]),
            Measurement(domain: "other", tag: "a", time: 2, values: [2]),
        ]
        let points = BatchSeries(measurements).points
        let a = points[SeriesKey(domain: Measurement.defaultDomain, tag: "a")] ?? []
        #expect(a.map(\.time) == [3, 4, 5])
        #expect(a.map(\.values) == [[3], [4], [5]])
        #expect(points[SeriesKey(domain: Measurement.defaultDomain, tag: "b")]?.map(\.time) == [1])
        #expect(points[SeriesKey(domain: "other", tag: "a")]?.map(\.time) == [2])
        // Already in order: kept as sent.
        let inOrder = BatchSeries((1...5).map { Measurement(tag: "c", time: Int64($0), values: [Double($0)]) }).points
        #expect(inOrder.values.first?.map(\.time) == [1, 2, 3, 4, 5])
    }

    @Test func aBatchAnnouncesOneSpanPerSeries() {
        let batch = [
            Measurement(tag: "b", time: 50, values: [1]),
            Measurement(tag: "a", time: 7, values: [1]),
            Measurement(domain: "ops", tag: "b", time: 3, values: [1]),
            Measurement(tag: "b", time: -20, values: [1]),
            Measurement(tag: "b", time: 90, values: [1]),
        ]
        let changes = BatchSeries(batch).changes.sorted { ($0.series.domain, $0.series.tag) < ($1.series.domain, $1.series.tag) }
        #expect(
            changes == [
                SeriesChange(series: SeriesKey(domain: Measurement.defaultDomain, tag: "a"), minTime: 7, maxTime: 7),
                SeriesChange(series: SeriesKey(domain: Measurement.defaultDomain, tag: "b"), minTime: -20, maxTime: 90),
                SeriesChange(series: SeriesKey(domain: "ops", tag: "b"), minTime: 3, maxTime: 3),
            ])
        #expect(BatchSeries([]).changes.isEmpty)
    }
}
