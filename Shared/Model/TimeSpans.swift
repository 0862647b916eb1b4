/// A set of times as sorted, disjoint, half-open spans `[lower, upper)`: where an answer reads which
/// source (`AggregateReader`), which minutes a refresher round rebuilds (`RollupRefresher`).
public struct TimeSpans: Equatable, Sendable {
    public struct Span: Equatable, Sendable {
        public var lower: Int64
        public var upper: Int64

        public init(lower: Int64, upper: Int64) {
            self.lower = lower
            self.upper = upper
        }
    }

    public private(set) var spans: [Span]

    /// Any spans; empty ones are dropped, overlapping and touching ones merged.
    public init(_ spans: [Span]) {
        var merged: [Span] = []
        for span in spans.sorted(by: { $0.lower < $1.lower }) where span.lower < span.upper {
            if let last = merged.last, span.lower <= last.upper {
                merged[merged.count - 1].upper = max(last.upper, span.upper)
            } else {
                merged.append(span)
            }
        }
        self.spans = merged
    }

    public init(from lower: Int64, to upper: Int64) {
        self.init([Span(lower: lower, upper: upper)])
    }

    public var isEmpty: Bool { spans.isEmpty }

    public func intersection(_ other: TimeSpans) -> TimeSpans {
        var result: [Span] = []
        var (i, j) = (0, 0)
        while i < spans.count, j < other.spans.count {
            let lower = max(spans[i].lower, other.spans[j].lower)
            let upper = min(spans[i].upper, other.spans[j].upper)
            if lower < upper { result.append(Span(lower: lower, upper: upper)) }
            if spans[i].upper < other.spans[j].upper { i += 1 } else { j += 1 }
        }
        return TimeSpans(result)
    }

    public func union(_ other: TimeSpans) -> TimeSpans {
        TimeSpans(spans + other.spans)
    }

    /// Each span widened to whole buckets of `step` (aligned to the epoch).
    public func widened(to step: Int64) -> TimeSpans {
        TimeSpans(
            spans.map { span in
                let upper = span.upper - 1
                return Span(lower: span.lower - span.lower % step, upper: upper - upper % step + step)
            })
    }

    /// Whether `[lower, upper)` shares a time with the set.
    public func overlaps(_ lower: Int64, _ upper: Int64) -> Bool {
        spans.contains { $0.lower < upper && lower < $0.upper }
    }
}
