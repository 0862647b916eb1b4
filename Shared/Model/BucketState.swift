/// Everything an aggregate needs to know about one series' points within one time bucket, per value
/// index: count, sum, minimum, maximum, first, last and the counter increase; plus the bucket's first
/// and last point times and the last point's values (the predecessor of whatever comes next).
///
/// One type serves `/api`'s raw-row aggregation and the writer's rollup tiers, so an answer from a tier
/// is the answer from the raw rows by construction. A point's increase is counted against the point
/// before it in the series (`previous`), wherever that lies; a fall counts as a counter reset.
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
    public var lastPoint: [Double]

    /// A bucket holding one point.
    public init(time: Int64, values: [Double], previous: [Double]?) {
        counts = []
        sums = []
        minimums = []
        maximums = []
        firsts = []
        lasts = []
        increases = []
        firstTime = time
        lastTime = time
        lastPoint = values
        absorb(values, previous: previous)
    }

    public init(
        counts: [Int32], sums: [Double], minimums: [Double], maximums: [Double], firsts: [Double], lasts: [Double],
        increases: [Double], firstTime: Int64, lastTime: Int64, lastPoint: [Double]
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
        self.lastPoint = lastPoint
    }

    /// Adds a point later than every point in the bucket.
    /// - Parameter previous: the point before it in the series (the bucket's last, or one before the bucket).
    public mutating func add(time: Int64, values: [Double], previous: [Double]?) {
        precondition(time > lastTime, "points are added in increasing time order")
        lastTime = time
        lastPoint = values
        absorb(values, previous: previous)
    }

    /// Appends the state of points all later than this bucket's (the rest of a longer bucket, or the
    /// next minute of an hour). Its increases were counted from its own predecessors, so they add.
    public mutating func append(_ later: BucketState) {
        precondition(later.firstTime > lastTime, "appended points must all be later")
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
            increases[index] += later.increases[index]
        }
        lastTime = later.lastTime
        lastPoint = later.lastPoint
    }

    /// A point's increase per value index against the point before it in the series: `v − p` when the
    /// value rose or held, `v` when it fell (a counter reset); nothing for an index the predecessor lacks.
    public static func contribution(of values: [Double], after previous: [Double]?) -> [Double] {
        values.indices.map { index in
            guard let previous, index < previous.count else { return 0 }
            return values[index] >= previous[index] ? values[index] - previous[index] : values[index]
        }
    }

    /// Every index has the same count: each point in the bucket had the same number of values.
    public var isUniform: Bool { counts.allSatisfy { $0 == counts.first } }

    /// Adds a point at any time inside the bucket (a late one), given its own increase against its
    /// predecessor. Exact only when the bucket is uniform and the point has as many values; returns false
    /// (and changes nothing) otherwise, and the caller rebuilds the bucket from the rows.
    public mutating func insert(time: Int64, values: [Double], increase: [Double]) -> Bool {
        guard isUniform, values.count == counts.count, time != firstTime, time != lastTime else { return false }
        for index in values.indices {
            counts[index] += 1
            sums[index] += values[index]
            minimums[index] = Swift.min(minimums[index], values[index])
            maximums[index] = Swift.max(maximums[index], values[index])
            increases[index] += increase[index]
        }
        if time < firstTime {
            firstTime = time
            firsts = values
        }
        if time > lastTime {
            lastTime = time
            lasts = values
            lastPoint = values
        }
        return true
    }

    /// Adjusts a point's increase after a late point became its new predecessor.
    public mutating func adjustIncrease(by delta: [Double]) {
        for index in delta.indices where index < increases.count { increases[index] += delta[index] }
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
