import SluiceModel

/// How many messages per second to offer over time: a list of (rate, duration) segments, repeated.
public struct RateSchedule: Sendable, Equatable, CustomStringConvertible {
    public struct Segment: Sendable, Equatable {
        public var rate: Double
        public var duration: Duration
    }

    public var segments: [Segment]

    public init(segments: [Segment]) {
        precondition(!segments.isEmpty && segments.allSatisfy { $0.duration > .zero && $0.rate >= 0 })
        self.segments = segments
    }

    public static func constant(_ rate: Double) -> RateSchedule {
        RateSchedule(segments: [Segment(rate: rate, duration: .seconds(60))])
    }

    /// Seed 003's profile as a repeating 5-minute cycle: a 10k msg/s baseline with a 1-minute peak at 50k
    /// and a 1-second peak at 200k (18.6k msg/s over the cycle, so it errs on the heavy side).
    public static let spec = RateSchedule(segments: [
        Segment(rate: 10_000, duration: .seconds(60)),
        Segment(rate: 50_000, duration: .seconds(60)),
        Segment(rate: 10_000, duration: .seconds(89)),
        Segment(rate: 200_000, duration: .seconds(1)),
        Segment(rate: 10_000, duration: .seconds(90)),
    ])

    /// Parses `constant:RATE`, `spec`, or `RATE@SECONDS,RATE@SECONDS,…`.
    public static func parse(_ text: String) -> RateSchedule? {
        if text == "spec" { return .spec }
        if text.hasPrefix("constant:"), let rate = Double(text.dropFirst("constant:".count)), rate > 0 { return .constant(rate) }
        var segments: [Segment] = []
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "@")
            guard pieces.count == 2, let rate = Double(pieces[0]), rate >= 0, let seconds = Double(pieces[1]), seconds > 0 else { return nil }
            segments.append(Segment(rate: rate, duration: .milliseconds(Int64(seconds * 1000))))
        }
        return segments.isEmpty ? nil : RateSchedule(segments: segments)
    }

    private var period: Duration { segments.reduce(.zero) { $0 + $1.duration } }

    /// Messages that should have been offered in the first `elapsed` of the run (the integral of the rate).
    public func messagesDue(after elapsed: Duration) -> Int {
        let periodSeconds = period.fractionalSeconds
        let elapsedSeconds = elapsed.fractionalSeconds
        let wholePeriods = (elapsedSeconds / periodSeconds).rounded(.down)
        var total = wholePeriods * segments.reduce(0) { $0 + $1.rate * $1.duration.fractionalSeconds }
        var remaining = elapsedSeconds - wholePeriods * periodSeconds
        for segment in segments where remaining > 0 {
            let span = min(remaining, segment.duration.fractionalSeconds)
            total += segment.rate * span
            remaining -= span
        }
        return Int(total.rounded(.down))
    }

    /// The rate in force at `elapsed`.
    public func rate(at elapsed: Duration) -> Double {
        var position = elapsed.fractionalSeconds.truncatingRemainder(dividingBy: period.fractionalSeconds)
        for segment in segments {
            if position < segment.duration.fractionalSeconds { return segment.rate }
            position -= segment.duration.fractionalSeconds
        }
        return segments[segments.count - 1].rate
    }

    public var description: String {
        segments.map { "\(Int($0.rate))@\($0.duration.fractionalSeconds)s" }.joined(separator: ",")
    }
}
