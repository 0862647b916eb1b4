/// Everything an aggregate needs to know about one series' points within one time block, per value
/// index: count, sum, minimum, maximum, first, last and the counter increase; plus the block's first
/// and last point times and its first and last points.
///
/// One type serves `/api`'s raw-row aggregation and the writer's rollup tiers, so an answer from a tier
/// is the answer from the raw rows by construction.
///
/// A block is self-contained: its increase counts each point against the point before it *inside the
/// block*, and the term that joins two blocks (the later block's first point against the earlier one's
/// last) is added by `append`. So a late point changes its own block and nothing else, and a block can
/// be rebuilt from its own rows alone. The increase of a block with a known predecessor (the point before
/// a `/api` bucket) adds that point's term with `countIncrease(after:)`. This is how Thanos and the
/// TimescaleDB Toolkit keep counter summaries. A fall counts as a counter reset.
public struct BucketState: Sendable, Equatable {
    public var counts: [Int32]
    public var sums: [Double]
    public var minimums: [Double]
    public var maximums: [Double]
    public var firsts: [Double]
    public var lasts: [Double]
    public var increases: [Double]
    public var firstTime: Int64
    public var lastTime: Int64
    /// The block's first point, whose increase against whatever came before is `append`'s to count. Empty
    /// for a tier row migrated from before blocks were self-contained: its increases already count it.
    public var firstPoint: [Double]
    public var lastPoint: [Double]

    /// A block holding one point.
    public init(time: Int64, values: [Double]) {
        counts = []
        sums = []
        minimums = []
        maximums = []
        firsts = []
        lasts = []
        increases = []
        firstTime = time
        lastTime = time
        firstPoint = values
        lastPoint = values
        absorb(values, previous: nil)
    }

    public init(
        counts: [Int32], sums: [Double], minimums: [Double], maximums: [Double], firsts: [Double], lasts: [Double],
        increases: [Double], firstTime: Int64, lastTime: Int64, firstPoint: [Double], lastPoint: [Double]
    ) {
        self.counts = counts
        self.sums = sums
        self.minimums = minimums
        self.maximums = maximums
        self.firsts = firsts
        self.lasts = lasts
        self.increases = increases
        self.firstTime = firstTime
        self.lastTime = lastTime
        self.firstPoint = firstPoint
        self.lastPoint = lastPoint
    }

    /// Adds a point later than every point in the block; its increase counts against the block's last.
    public mutating func add(time: Int64, values: [Double]) {
        precondition(time > lastTime, "points are added in increasing time order")
        let previous = lastPoint
        lastTime = time
        lastPoint = values
        absorb(values, previous: previous)
    }

    /// Appends a block of points all later than this one's (the next minute of an hour, the next hour of
    /// a day). Its increase adds, with the term joining its first point to this block's last.
    public mutating func append(_ later: BucketState) {
        precondition(later.firstTime > lastTime, "appended points must all be later")
        let joining = Self.contribution(of: later.firstPoint, after: lastPoint)
        widen(to: later.counts.count)
        for index in later.counts.indices where later.counts[index] > 0 {
            if counts[index] == 0 {
                firsts[index] = later.firsts[index]
                minimums[index] = later.minimums[index]
                maximums[index] = later.maximums[index]
            } else {
                minimums[index] = Swift.min(minimums[index], later.minimums[index])
                maximums[index] = Swift.max(maximums[index], later.maximums[index])
            }
            counts[index] += later.counts[index]
            sums[index] += later.sums[index]
            lasts[index] = later.lasts[index]
            if index < joining.count { increases[index] += joining[index] }
            increases[index] += later.increases[index]
        }
        lastTime = later.lastTime
        lastPoint = later.lastPoint
    }

    /// Counts the first point's increase against the point before the block (a `/api` bucket's
    /// predecessor, wherever it lies). Once per block, before anything is appended to it.
    public mutating func countIncrease(after previous: [Double]) {
        for (index, term) in Self.contribution(of: firstPoint, after: previous).enumerated() where index < increases.count {
            increases[index] = term + increases[index]
        }
    }

    /// A point's increase per value index against the point before it in the series: `v − p` when the
    /// value rose or held, `v` when it fell (a counter reset); nothing for an index the predecessor lacks.
    public static func contribution(of values: [Double], after previous: [Double]?) -> [Double] {
        values.indices.map { index in
            guard let previous, index < previous.count else { return 0 }
            return values[index] >= previous[index] ? values[index] - previous[index] : values[index]
        }
    }

    private mutating func absorb(_ values: [Double], previous: [Double]?) {
        widen(to: values.count)
        for (index, value) in values.enumerated() {
            if counts[index] == 0 {
                firsts[index] = value
                minimums[index] = value
                maximums[index] = value
            } else {
                minimums[index] = Swift.min(minimums[index], value)
                maximums[index] = Swift.max(maximums[index], value)
            }
            counts[index] += 1
            sums[index] += value
            lasts[index] = value
            if let previous, index < previous.count {
                increases[index] += value >= previous[index] ? value - previous[index] : value
            }
        }
    }

    private mutating func widen(to width: Int) {
        guard counts.count < width else { return }
        let extra = width - counts.count
        counts += repeatElement(0, count: extra)
        sums += repeatElement(0, count: extra)
        minimums += repeatElement(0, count: extra)
        maximums += repeatElement(0, count: extra)
        firsts += repeatElement(0, count: extra)
        lasts += repeatElement(0, count: extra)
        increases += repeatElement(0, count: extra)
    }
}
