import Query
import SluiceModel
import SluiceRuntime
import Testing

/// Buckets, the aggregator and fills, against values worked out by hand.
@Suite struct AggregationTests {
    let second: Int64 = 1_000_000_000

    @Test func bucketsAreAlignedToTheEpochAndCoverTheWindowWidenedToWholeBuckets() {
        let grid = BucketGrid(start: 95 * second, end: 305 * second, step: 60 * second)
        #expect(grid.first == 60 * second)
        #expect(grid.count == 5)  // [60,120) … [300,360): 305 s falls in the last
        #expect(grid.end == 360 * second)
        #expect(grid.index(of: 59 * second) == nil && grid.index(of: 60 * second) == 0 && grid.index(of: 360 * second) == nil)
        // An end on a boundary does not open an empty bucket after the window.
        #expect(BucketGrid(start: 0, end: 300 * second, step: 60 * second).count == 5)
    }

    @Test func theDefaultStepIsTheSmallestPreferredOneWithinTheLimit() {
        let start = 1_800_000_000 * second
        #expect(BucketGrid.choosing(start: start, end: start + 600 * second, maximumBuckets: 1000).step == second)
        #expect(BucketGrid.choosing(start: start, end: start + 2400 * second, maximumBuckets: 100).step == 30 * second)
        #expect(BucketGrid.choosing(start: start, end: start + 86_400 * second, maximumBuckets: 1000).step == 300 * second)
        let year = BucketGrid.choosing(start: start, end: start + 365 * 86_400 * second, maximumBuckets: 100)
        #expect(year.step % (86_400 * second) == 0 && year.count <= 100)
    }

    @Test func everyFunctionOverOneBucket() {
        var aggregator = BucketAggregator(grid: BucketGrid(start: 0, end: 10 * second, step: 10 * second))
        aggregator.seed(before: [8, 1])
        aggregator.add(time: 1 * second, values: [10, 4])
        aggregator.add(time: 2 * second, values: [3, 2])  // index 0 resets: its increase is 3
        aggregator.add(time: 3 * second, values: [5])
        func value(_ function: AggregateFunction) -> [Double?]? { aggregator.values(of: function)[0] }
        #expect(value(.count) == [3, 2])
        #expect(value(.sum) == [18, 6])
        #expect(value(.avg) == [6, 3])
        #expect(value(.min) == [3, 2])
        #expect(value(.max) == [10, 4])
        #expect(value(.first) == [10, 4])
        #expect(value(.last) == [5, 2])
        // index 0: (10−8) + 3 (reset) + (5−3) = 7 over 10 s; index 1: (4−1) + 2 (reset) = 5.
        #expect(value(.rate) == [0.7, 0.5])
    }

    /// A bucket built point by point equals the same points split in two and appended, which is how the
    /// writer folds new points into a tier and the hour tier is rebuilt from minutes.
    @Test func appendingALaterBlockEqualsAddingItsPoints() {
        let points: [(Int64, [Double])] = [(1, [5, 1]), (2, [3]), (3, [4, 9, 2]), (4, [10, 1]), (5, [1, 1, 1]), (6, [2])]
        for split in 1..<points.count {
            var whole = BucketState(time: points[0].0, values: points[0].1, previous: [4, 4])
            for (time, values) in points.dropFirst() { whole.add(time: time, values: values, previous: points[Int(time) - 2].1) }
            var head = BucketState(time: points[0].0, values: points[0].1, previous: [4, 4])
            for (time, values) in points[1..<split] { head.add(time: time, values: values, previous: points[Int(time) - 2].1) }
            var tail = BucketState(time: points[split].0, values: points[split].1, previous: points[split - 1].1)
            for (time, values) in points[(split + 1)...] { tail.add(time: time, values: values, previous: points[Int(time) - 2].1) }
            head.append(tail)
            #expect(head == whole, "split at \(split)")
        }
    }

    @Test func fills() {
        let grid = BucketGrid(first: 0, step: 1, count: 5)
        let buckets: [[Double?]?] = [nil, [1, 10], nil, [3, nil], nil]
        #expect(BucketFill.apply(.null, to: buckets, grid: grid).map(\.values) == buckets)
        #expect(BucketFill.apply(.none, to: buckets, grid: grid).map(\.time) == [1, 3])
        #expect(BucketFill.apply(.previous, to: buckets, grid: grid).map(\.values) == [nil, [1, 10], [1, 10], [3, nil], [3, nil]])
        #expect(BucketFill.apply(.linear, to: buckets, grid: grid).map(\.values) == [nil, [1, 10], [2, nil], [3, nil], nil])
    }

    @Test func parametersAreCheckedAndNamed() {
        let now: Int64 = 1_800_000_000 * second
        func message(_ extra: [String: String]) -> String? {
            do {
                _ = try SampleRequest.parse(["tag": "cpu", "start": "-3600000000000"].merging(extra) { _, new in new }, now: now, minimumWindow: 600 * second)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message(["fn": "median"])?.hasPrefix("fn must be one of") == true)
        #expect(message(["fn": "avg", "fill": "zero"])?.hasPrefix("fill must be one of") == true)
        #expect(message(["fn": "avg", "step": "0"])?.hasPrefix("step must be a positive") == true)
        #expect(message(["fn": "avg", "step": "1000"])?.contains("buckets") == true)
        #expect(message(["step": "60000000000"])?.contains("not to fn=asof") == true)
        #expect(message(["fill": "none"])?.contains("not to fn=asof") == true)
        #expect(message(["fn": "avg", "step": "60000000000", "fill": "linear"]) == nil)
    }

    @Test func anAggregateRequestNamesItsBuckets() throws {
        let now: Int64 = 1_800_000_000 * second
        let request = try SampleRequest.parse(["tag": "cpu", "start": "-3600000000000", "fn": "max", "samples": "100"], now: now, minimumWindow: 600 * second)
        #expect(request.function == .max && request.fill == .null)
        #expect(request.buckets?.step == 60 * second)
        #expect(try SampleRequest.parse(["tag": "cpu", "start": "-3600000000000"], now: now, minimumWindow: 600 * second).buckets == nil)
    }
}
