import SluiceModel

/// Folds a series' rollup rows and points (raw rows), in time order, into the buckets of a grid, keeping
/// per bucket the `BucketState` the rollup tiers keep too, so every path answers alike.
///
/// Points are folded into blocks of the tiers' steps that divide the grid's (a minute, then its hour)
/// and the blocks appended upwards, as the writer builds its tiers: a bucket read from the hour tier,
/// from minute rows or from raw rows adds the same numbers in the same order, so the answers are equal,
/// not merely close.
public struct BucketAggregator: Sendable {
    let grid: BucketGrid
    /// The buckets built here (nil: empty, or one of `shared`), each flat in one buffer it owns: a day's
    /// 5-minute buckets append five minute rows each, and as `BucketState`s every bucket copied its first
    /// row's nine arrays before the second could join (~18 % of the query service's time for such an
    /// answer, `perf`).
    private var buckets: [BucketAccumulator?]
    /// The buckets that are one tier row each (a day at 1-minute buckets: all of them), as the caller holds
    /// it, with the point before it: not a copy of its nine arrays, and not a copy on write of one to count
    /// its first increase against that point, which only `rate` reads. 1,440 of each were ~15 % of the
    /// query service's time for such an answer (`perf`). Kept apart from `buckets` so a bucket built from
    /// points is still changed in place.
    private var shared: [(block: StateBlock, previous: [Double]?)?]
    /// The blocks' steps, finest first (nanoseconds; each divides the next and the grid's step).
    private let levels: [Int64]
    /// The open block of each level.
    private var open: [(start: Int64, state: BucketState)?]
    /// The last point folded so far, or the point before the window: a bucket's first point counts its
    /// increase against it.
    private var previous: [Double]?
    private var previousTime: Int64?

    /// - Parameter blockSteps: the steps of the tiers the answer may read, finest first; those that do
    ///   not divide the grid's step (or align with its start) are left out.
    public init(grid: BucketGrid, blockSteps: [Int64] = []) {
        self.grid = grid
        buckets = Array(repeating: nil, count: grid.count)
        shared = Array(repeating: nil, count: grid.count)
        levels = blockSteps.filter { grid.step % $0 == 0 && grid.first % $0 == 0 && $0 < grid.step }
        open = Array(repeating: nil, count: levels.count)
    }

    /// The point just before the window: the first point in it counts its increase from this one.
    public mutating func seed(before values: [Double], at time: Int64? = nil) {
        previous = values
        if let time { previousTime = time }
    }

    /// Adds a point; points come in increasing time order. One outside the grid only serves as the
    /// next point's predecessor.
    public mutating func add(time: Int64, values: [Double]) {
        precondition(previousTime.map { time > $0 } ?? true, "points must arrive in increasing time order")
        previousTime = time
        guard let bucket = grid.index(of: time) else {
            closeBlocks(below: levels.count)
            previous = values
            return
        }
        guard let finest = levels.first else {
            if shared[bucket] != nil { own(bucketAt: bucket) }
            if buckets[bucket] != nil {
                buckets[bucket]?.add(time: time, values: values)  // in place, no copy
            } else {
                start(BucketAccumulator(time: time, values: values), atBucket: bucket)
            }
            previous = values
            return
        }
        let start = time - time % finest
        if open[0]?.start == start {
            open[0]?.state.add(time: time, values: values)
        } else {
            closeBlock(at: 0)
            open[0] = (start, BucketState(time: time, values: values))
        }
    }

    /// Adds a rollup row (a whole tier block of `step`, which lies inside one grid bucket since the grid's
    /// step is a multiple of the tier's), in time order, before any later point.
    public mutating func add(rollup state: BucketState, step: Int64) {
        add(rollup: StateBlock(start: state.firstTime - state.firstTime % step, state: state), step: step)
    }

    /// Adds a tier row (or a minute folded) as `add(rollup:step:)` does; one that makes a grid bucket by
    /// itself is kept as the caller holds it (`shared`).
    mutating func add(rollup block: StateBlock, step: Int64) {
        precondition(previousTime.map { block.state.firstTime > $0 } ?? true, "rollups must arrive in increasing time order")
        previousTime = block.state.lastTime
        let start = block.start
        guard let bucket = grid.index(of: start) else { return }
        let level = levels.firstIndex(of: step).map { $0 + 1 } ?? levels.count
        closeBlocks(below: level)
        guard level == levels.count, buckets[bucket] == nil, shared[bucket] == nil else {
            append(block.state, at: level, start: start)
            return
        }
        shared[bucket] = (block, previous)
        previous = block.state.lastPoint
    }

    /// Each bucket's state (nil for an empty bucket), once everything is added.
    public var states: [BucketState?] {
        let finished = finishedBuckets
        return zip(finished.buckets, finished.shared).map { built, shared in built?.state ?? shared.map(Self.state) }
    }

    /// One value per index of each bucket (nil for an empty bucket), before any fill.
    public func values(of function: AggregateFunction) -> [[Double?]?] {
        let finished = finishedBuckets
        return zip(finished.buckets, finished.shared).map { built, shared in
            if let built { return built.values(of: function, stepNanoseconds: grid.step) }
            guard let shared else { return nil }
            // Only `rate` reads the increases, so only it needs the first one counted.
            let state = function == .rate ? Self.state(of: shared) : shared.block.state
            return state.values(of: function, stepNanoseconds: grid.step)
        }
    }

    private var finishedBuckets: (buckets: [BucketAccumulator?], shared: [(block: StateBlock, previous: [Double]?)?]) {
        var finished = self
        finished.closeBlocks(below: levels.count)
        return (finished.buckets, finished.shared)
    }

    /// A shared block's state with its first increase counted against the point before it.
    private static func state(of shared: (block: StateBlock, previous: [Double]?)) -> BucketState {
        guard let previous = shared.previous else { return shared.block.state }
        var state = shared.block.state
        state.countIncrease(after: previous)
        return state
    }

    /// Turns a shared bucket into one built here, before anything joins it.
    private mutating func own(bucketAt index: Int) {
        guard let one = shared[index] else { return }
        shared[index] = nil
        var owned = BucketAccumulator(one.block.state)
        if let previous = one.previous { owned.countIncrease(after: previous) }
        buckets[index] = owned
    }

    /// Closes the open blocks of the levels below `top`, finest first, each appended to the level above.
    private mutating func closeBlocks(below top: Int) {
        for level in 0..<top { closeBlock(at: level) }
    }

    private mutating func closeBlock(at level: Int) {
        guard let block = open[level] else { return }
        open[level] = nil
        append(block.state, at: level + 1, start: block.start)
    }

    /// Appends a block to the open block of `level` (past the last level, to its grid bucket); a block of
    /// another span closes the open one first.
    private mutating func append(_ block: BucketState, at level: Int, start: Int64) {
        guard level < levels.count else {
            add(block, toBucketAt: start)
            return
        }
        let levelStart = start - start % levels[level]
        if open[level]?.start == levelStart {
            open[level]?.state.append(block)
        } else {
            closeBlock(at: level)
            open[level] = (levelStart, block)
        }
    }

    /// A bucket's first block counts its first point's increase against the point before it.
    private mutating func add(_ block: BucketState, toBucketAt time: Int64) {
        defer { previous = block.lastPoint }
        guard let bucket = grid.index(of: time) else { return }
        if shared[bucket] != nil { own(bucketAt: bucket) }
        if buckets[bucket] != nil {
            buckets[bucket]?.append(block)
        } else {
            start(BucketAccumulator(block), atBucket: bucket)
        }
    }

    /// A bucket's first block, its first increase counted against the point before it.
    private mutating func start(_ block: consuming BucketAccumulator, atBucket bucket: Int) {
        if let previous { block.countIncrease(after: previous) }
        buckets[bucket] = block
    }
}

extension BucketState {
    /// The aggregate per value index.
    public func values(of function: AggregateFunction, stepNanoseconds: Int64) -> [Double?] {
        counts.indices.map { index -> Double? in
            function.value(stepNanoseconds: stepNanoseconds) { figure in
                switch figure {
                case .count: Double(counts[index])
                case .sum: sums[index]
                case .minimum: minimums[index]
                case .maximum: maximums[index]
                case .first: firsts[index]
                case .last: lasts[index]
                case .increase: increases[index]
                }
            }
        }
    }
}

/// Fills empty buckets as `/api?fill=` asks.
public enum BucketFill {
    /// The answer's buckets: each bucket's start and its values (nil: `"values": null`).
    public static func apply(_ fill: Fill, to buckets: [[Double?]?], grid: BucketGrid) -> [(time: Int64, values: [Double?]?)] {
        var answer: [(time: Int64, values: [Double?]?)] = []
        answer.reserveCapacity(buckets.count)
        switch fill {
        case .null:
            for (index, values) in buckets.enumerated() { answer.append((grid.start(ofBucket: index), values)) }
        case .none:
            for (index, values) in buckets.enumerated() where values != nil { answer.append((grid.start(ofBucket: index), values)) }
        case .previous:
            var last: [Double?]?
            for (index, values) in buckets.enumerated() {
                if let values { last = values }
                answer.append((grid.start(ofBucket: index), values ?? last))
            }
        case .linear:
            let filled = buckets.indices.filter { buckets[$0] != nil }
            var next = 0
            for (index, values) in buckets.enumerated() {
                while next < filled.count, filled[next] < index { next += 1 }
                if let values {
                    answer.append((grid.start(ofBucket: index), values))
                    continue
                }
                guard next > 0, next < filled.count, let before = buckets[filled[next - 1]], let after = buckets[filled[next]] else {
                    answer.append((grid.start(ofBucket: index), nil))
                    continue
                }
                let (left, right) = (filled[next - 1], filled[next])
                let fraction = Double(index - left) / Double(right - left)
                let width = Swift.max(before.count, after.count)
                let interpolated = (0..<width).map { position -> Double? in
                    guard position < before.count, position < after.count, let a = before[position], let b = after[position] else { return nil }
                    return a + (b - a) * fraction
                }
                answer.append((grid.start(ofBucket: index), interpolated))
            }
        }
        return answer
    }
}
