/// The sample times of a downsampled window: sample k of N (k = 1…N) stands at
/// `start + k·(end−start)/N`, in integer nanoseconds.
///
/// Computed as `start + k·q + (k·r)/N` with `q, r = (end−start) divmod N`, so it is exact, never
/// overflows for any window that fits in int64, and lands exactly on `end` at k = N.
public struct SampleGrid: Sendable, Equatable {
    public let start: Int64
    public let end: Int64
    public let count: Int

    /// - Precondition: `end > start` and `count ≥ 1` (callers validate user input first).
    public init(start: Int64, end: Int64, count: Int) {
        precondition(end > start && count >= 1, "SampleGrid needs end > start and count ≥ 1")
        self.start = start
        self.end = end
        self.count = count
    }

    /// The time of sample `k`, for k in 1…count.
    public func time(ofSample k: Int) -> Int64 {
        let span = UInt64(bitPattern: end &- start)  // end > start, so the difference fits in UInt64
        let n = UInt64(count)
        let (quotient, remainder) = span.quotientAndRemainder(dividingBy: n)
        let step = quotient &* UInt64(k) &+ (remainder &* UInt64(k)) / n
        return start &+ Int64(bitPattern: step)
    }

    /// All sample times in order.
    public var times: [Int64] {
        (1...count).map(time(ofSample:))
    }
}
