import SluiceModel

/// Seed 003's readers' schedule: one read per interval, at a random instant of it, until `duration`
/// has passed since `started`. A fixed phase would lock onto a producer's own period (a batch every
/// 100 ms) and measure lag at one point of it, the same every time. Slots follow the clock, not the
/// reads: a slow answer does not push the next read back, and a reader that falls behind still stops
/// on time.
public struct ReadSchedule: Sendable {
    private let started: ContinuousClock.Instant
    private let interval: Duration
    private let duration: Duration
    private var slot: ContinuousClock.Instant

    public init(started: ContinuousClock.Instant, interval: Duration, duration: Duration) {
        self.started = started
        self.interval = interval
        self.duration = duration
        slot = started
    }

    /// When the next read is due, or nil once the run is over. Draws one number from `generator`.
    public mutating func next(using generator: inout SeededGenerator, now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant? {
        guard slot - started < duration, now - started < duration else { return nil }
        defer { slot += interval }
        return slot + interval * generator.unit()
    }
}
