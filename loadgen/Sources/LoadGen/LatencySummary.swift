import Foundation
import Histogram

/// Percentiles of a latency histogram recorded in microseconds, printed in milliseconds.
public struct LatencySummary: Sendable, Codable, Equatable {
    public var count: UInt64
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double

    public init(_ histogram: Histogram<UInt64>) {
        func milliseconds(_ value: UInt64) -> Double { Double(value) / 1000 }
        count = histogram.totalCount
        p50 = milliseconds(histogram.valueAtPercentile(50))
        p90 = milliseconds(histogram.valueAtPercentile(90))
        p99 = milliseconds(histogram.valueAtPercentile(99))
        p999 = milliseconds(histogram.valueAtPercentile(99.9))
        max = milliseconds(histogram.max)
    }

    /// A histogram for values from 1 µs to 10 minutes at three significant digits.
    public static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    public var line: String {
        count == 0 ? "no samples" : "p50 \(format(p50))  p90 \(format(p90))  p99 \(format(p99))  p99.9 \(format(p999))  max \(format(max)) ms  (n=\(count))"
    }

    /// Hundredths below 10 ms (the bridge answers in fractions of one), tenths above.
    private func format(_ value: Double) -> String {
        String(format: value < 10 ? "%.2f" : "%.1f", value)
    }
}
