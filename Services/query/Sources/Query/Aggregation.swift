import SluiceModel
import SluiceRuntime

/// How `/api` answers a bucket that holds no measurement.
public enum Fill: String, Sendable, CaseIterable {
    /// `"values": null`.
    case null
    /// The bucket is left out.
    case none
    /// The nearest earlier non-empty bucket's values (null before the first).
    case previous
    /// Interpolated between the neighbouring non-empty buckets; null at the edges.
    case linear
}

/// Buckets `[b, b + step)` aligned to multiples of `step` since the epoch, from the one holding the
/// window's start to the one holding its last nanosecond (the window `[start, end)` widened to whole
/// buckets), each labelled by `b`.
public struct BucketGrid: Sendable, Equatable {
    public let first: Int64
    public let step: Int64
    public let count: Int

    public init(first: Int64, step: Int64, count: Int) {
        self.first = first
        self.step = step
        self.count = count
    }

    /// The grid for a window and step.
    /// - Precondition: `0 ≤ start < end`, `step > 0`.
    public init(start: Int64, end: Int64, step: Int64) {
        first = start / step * step
        self.step = step
        count = Int((end - 1) / step - start / step + 1)
    }

    /// The smallest step of the ladder (`StepLadder`, the bridge's too) that gives at most
    /// `maximumBuckets` buckets; past a day, the smallest whole number of days.
    public static func choosing(start: Int64, end: Int64, maximumBuckets: Int) -> BucketGrid {
        let nanosecondsPerSecond: Int64 = 1_000_000_000
        // The window's span per bucket is a lower bound; alignment may add one bucket, so step up from there.
        var step = StepLadder.step(atLeast: max(1, (end - start) / Int64(max(1, maximumBuckets))), unitsPerSecond: nanosecondsPerSecond)
        while true {
            let grid = BucketGrid(start: start, end: end, step: step)
            // The largest step the ladder has covers every representable time in at most two buckets.
            let next = StepLadder.step(atLeast: step + 1, unitsPerSecond: nanosecondsPerSecond)
            if grid.count <= maximumBuckets || next <= step { return grid }
            step = next
        }
    }

    /// The end of the last bucket (exclusive).
    public var end: Int64 { first + Int64(count) * step }

    public func start(ofBucket index: Int) -> Int64 { first + Int64(index) * step }

    /// The bucket a time falls in, or nil outside the grid.
    public func index(of time: Int64) -> Int? {
        guard time >= first, time < end else { return nil }
        return Int((time - first) / step)
    }
}
