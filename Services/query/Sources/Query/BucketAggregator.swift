import SluiceModel

/// Folds a series' rollup rows and points (raw rows), in time order, into the buckets of a grid, keeping
/// per bucket the `BucketState` the rollup tiers keep too, so every path answers alike.
public struct BucketAggregator: Sendable {
    let grid: BucketGrid
    private var buckets: [BucketState?]
    /// The latest point so far, across buckets, for `rate`.
    private var previous: [Double]?
    private var previousTime: Int64?

    public init(grid: BucketGrid) {
        self.grid = grid
        buckets = Array(repeating: nil, count: grid.count)
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
        defer { previous = values }
        guard let bucket = grid.index(of: time) else { return }
        if buckets[bucket] != nil {
            buckets[bucket]?.add(time: time, values: values, previous: previous)  // in place, no copy
        } else {
            buckets[bucket] = BucketState(time: time, values: values, previous: previous)
        }
    }

    /// Adds a rollup row (a whole tier bucket, which lies inside one grid bucket since the grid's step is
    /// a multiple of the tier's), in time order, before any later point.
    public mutating func add(rollup state: BucketState) {
        precondition(previousTime.map { state.firstTime > $0 } ?? true, "rollups must arrive in increasing time order")
        previous = state.lastPoint
        previousTime = state.lastTime
        guard let bucket = grid.index(of: state.firstTime) else { return }
        if buckets[bucket] != nil {
            buckets[bucket]?.append(state)
        } else {
            buckets[bucket] = state
        }
    }

    /// Each bucket's state (nil for an empty bucket).
    public var states: [BucketState?] { buckets }

    /// One value per index of each bucket (nil for an empty bucket), before any fill.
    public func values(of function: AggregateFunction) -> [[Double?]?] {
        buckets.map { state in state.map { $0.values(of: function, stepNanoseconds: grid.step) } }
    }
}

extension BucketState {
    /// The aggregate per value index.
    func values(of function: AggregateFunction, stepNanoseconds: Int64) -> [Double?] {
        counts.indices.map { index -> Double? in
            guard counts[index] > 0 else { return nil }
            switch function {
            case .asof, .last: return lasts[index]
            case .first: return firsts[index]
            case .min: return minimums[index]
            case .max: return maximums[index]
            case .sum: return sums[index]
            case .avg: return sums[index] / Double(counts[index])
            case .count: return Double(counts[index])
            case .rate: return increases[index] / (Double(stepNanoseconds) / 1e9)
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
