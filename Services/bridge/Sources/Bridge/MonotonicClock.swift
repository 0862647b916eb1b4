import SluiceModel

/// Milliseconds on a monotonic clock, as an integer that fits in an atomic: when each job was last asked for.
enum MonotonicClock {
    private static let origin = ContinuousClock.now

    static func milliseconds() -> Int64 {
        (ContinuousClock.now - origin).wholeMilliseconds
    }
}
