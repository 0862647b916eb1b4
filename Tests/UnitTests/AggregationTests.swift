import Bridge
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
        #expect(year.step == 4 * 86_400 * second && year.count <= 100, "the fewest whole days")
    }

    /// One ladder: for windows the steps divide, `/api`'s default buckets and the bridge's grid are the same.
    @Test func apiAndTheBridgeChooseTheSameStep() {
        let day: Int64 = 86_400
        for seconds in [600, 3600, day, 7 * day, 30 * day, 400 * day, 2000 * day, 3000 * day, 7001 * day] {
            let bridge = Resolution.milliseconds(window: seconds * 1000, hint: nil) * 1_000_000
            let api = BucketGrid.choosing(start: 0, end: seconds * second, maximumBuckets: 1000).step
            #expect(bridge == api, "a window of \(seconds) s: bridge \(bridge), /api \(api)")
        }
        #expect(BucketGrid.choosing(start: 0, end: 3000 * day * second, maximumBuckets: 1000).step == 3 * day * second)
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

    /// Folding points whole equals folding any split of them into blocks and appending the blocks, which
    /// is how the writer builds hours from minutes and `/api` buckets from tier rows; and the answer is
    /// the same whichever block boundaries the aggregator folds through. Values are small integers, so
    /// every sum is exact and the comparison is equality.
    @Test(arguments: 1...40 as ClosedRange<UInt64>)
    func appendingAnySplitEqualsFoldingWhole(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var counter = 0.0
        let points: [(time: Int64, values: [Double])] = (0..<Int.random(in: 2...60, using: &generator)).map { index in
            // Counters that mostly rise and sometimes reset; ragged widths (a point may lack later indices).
            counter =
                Int.random(in: 0..<8, using: &generator) == 0
                ? Double(Int.random(in: 0...3, using: &generator)) : counter + Double(Int.random(in: 0...5, using: &generator))
            let width = Int.random(in: 1...3, using: &generator)
            return (
                Int64(index) * 7 + Int64.random(in: 0..<7, using: &generator),
                Array([counter, Double(Int.random(in: -9...9, using: &generator)), Double(index)].prefix(width))
            )
        }
        func fold(_ slice: ArraySlice<(time: Int64, values: [Double])>) -> BucketState {
            var state = BucketState(time: slice[slice.startIndex].time, values: slice[slice.startIndex].values)
            for point in slice.dropFirst() { state.add(time: point.time, values: point.values) }
            return state
        }
        let whole = fold(points[...])
        var cuts = Set((0..<Int.random(in: 0...6, using: &generator)).map { _ in Int.random(in: 1..<points.count, using: &generator) })
        cuts.insert(points.count)
        var appended: BucketState?
        var from = 0
        for cut in cuts.sorted() {
            let block = fold(points[from..<cut])
            if appended == nil { appended = block } else { appended?.append(block) }
            from = cut
        }
        #expect(appended == whole, "seed \(seed), cuts \(cuts.sorted())")

        // The point before counts once, wherever the blocks were cut.
        var seeded = whole
        seeded.countIncrease(after: [2, 2, 2])
        var aggregator = BucketAggregator(grid: BucketGrid(first: 0, step: 420, count: 1), blockSteps: [7, 35, 70])
        aggregator.seed(before: [2, 2, 2], at: -1)
        for point in points { aggregator.add(time: point.time, values: point.values) }
        #expect(aggregator.states == [seeded], "seed \(seed)")
    }

    /// The writer's flat accumulator makes `BucketState.add`'s operations in the same order: its state is
    /// the folded state bit for bit, for ragged widths, resets and fractions whose sums round.
    @Test(arguments: 1...40 as ClosedRange<UInt64>)
    func theAccumulatorEqualsFoldingIntoABucketState(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var time: Int64 = 0
        let points: [(time: Int64, values: [Double])] = (0..<Int.random(in: 1...200, using: &generator)).map { _ in
            time += Int64.random(in: 1...1000, using: &generator)
            let width = Int.random(in: 0...4, using: &generator) == 0 ? Int.random(in: 1...12, using: &generator) : 10
            return (time, (0..<width).map { _ in Double.random(in: -1e6...1e6, using: &generator) / 3 })
        }
        var state = BucketState(time: points[0].time, values: points[0].values)
        var accumulator = BucketAccumulator(time: points[0].time, values: points[0].values)
        for point in points.dropFirst() {
            state.add(time: point.time, values: point.values)
            accumulator.add(time: point.time, values: point.values)
        }
        #expect(accumulator.state == state, "seed \(seed)")
    }

    /// `/api` folds a bucket's tier rows into a flat accumulator: starting from a block, counting the
    /// increase against the point before it, appending blocks (some with their points left out, as the
    /// columns `fn=avg` reads leave them) and points must make `BucketState`'s operations in the same order,
    /// so the state and every function's values are equal bit for bit, for ragged widths, resets and
    /// fractions whose sums round.
    @Test(arguments: 1...40 as ClosedRange<UInt64>)
    func theAccumulatorAppendsBlocksAsABucketStateDoes(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var time: Int64 = 0
        func block() -> BucketState {
            let width = Int.random(in: 0...3, using: &generator) == 0 ? Int.random(in: 1...12, using: &generator) : 10
            func values() -> [Double] {
                (0..<width).map { _ in
                    Int.random(in: 0..<6, using: &generator) == 0 ? 0 : Double.random(in: -1e6...1e6, using: &generator) / 3
                }
            }
            time += Int64.random(in: 1...1000, using: &generator)
            var state = BucketState(time: time, values: values())
            for _ in 0..<Int.random(in: 0...5, using: &generator) {
                time += Int64.random(in: 1...1000, using: &generator)
                state.add(time: time, values: values())
            }
            if Int.random(in: 0..<4, using: &generator) == 0 {
                // A row read without its points (`fn=avg` asks for counts and sums only).
                state.firstPoint = []
                state.lastPoint = []
            }
            return state
        }
        let first = block()
        var expected = first
        var accumulator = BucketAccumulator(first)
        if Bool.random(using: &generator) {
            let previous = (0..<Int.random(in: 0...12, using: &generator)).map { _ in Double.random(in: -1e6...1e6, using: &generator) / 3 }
            expected.countIncrease(after: previous)
            accumulator.countIncrease(after: previous)
        }
        for _ in 0..<Int.random(in: 0...8, using: &generator) {
            if Int.random(in: 0..<3, using: &generator) == 0 {
                time += Int64.random(in: 1...1000, using: &generator)
                let values = (0..<10).map { _ in Double.random(in: -1e6...1e6, using: &generator) / 3 }
                expected.add(time: time, values: values)
                accumulator.add(time: time, values: values)
            } else {
                let later = block()
                expected.append(later)
                accumulator.append(later)
            }
        }
        #expect(accumulator.state == expected, "seed \(seed)")
        for function in AggregateFunction.allCases {
            let want = expected.values(of: function, stepNanoseconds: 60_000_000_000)
            let got = accumulator.values(of: function, stepNanoseconds: 60_000_000_000)
            #expect(got.map { $0?.bitPattern } == want.map { $0?.bitPattern }, "seed \(seed), \(function)")
        }
    }

    /// Tier rows and raw points fold alike: a bucket read partly from blocks gives the raw answer.
    @Test func blocksAndPointsFoldAlike() {
        let points: [(Int64, [Double])] = (0..<50).map { (index: Int) -> (Int64, [Double]) in
            let gauge: Double = 0.3 * Double(index)
            return (Int64(index) * 3, [Double(index % 11) * 1.1, gauge])
        }
        var raw = BucketAggregator(grid: BucketGrid(first: 0, step: 60, count: 3), blockSteps: [10])
        for (time, values) in points { raw.add(time: time, values: values) }
        var mixed = BucketAggregator(grid: BucketGrid(first: 0, step: 60, count: 3), blockSteps: [10])
        // The first 100 ns come as blocks of 10 (as tier rows would), the rest as points.
        for start in stride(from: Int64(0), to: 100, by: 10) {
            let inside = points.filter { $0.0 >= start && $0.0 < start + 10 }
            var block = BucketState(time: inside[0].0, values: inside[0].1)
            for (time, values) in inside.dropFirst() { block.add(time: time, values: values) }
            mixed.add(rollup: block, step: 10)
        }
        for (time, values) in points where time >= 100 { mixed.add(time: time, values: values) }
        #expect(mixed.states == raw.states)
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
        guard case .aggregate(let aggregate) = request.reading else {
            Issue.record("fn=max read as \(request.reading)")
            return
        }
        #expect(aggregate.function == .max && aggregate.fill == .null)
        #expect(aggregate.buckets.step == 60 * second)
        let asOf = try SampleRequest.parse(["tag": "cpu", "start": "-3600000000000"], now: now, minimumWindow: 600 * second)
        #expect(asOf.reading == .asOf(SampleGrid(start: now - 3_600_000_000_000, end: now, count: 1000)))
    }
}
