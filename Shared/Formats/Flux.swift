import SluiceModel

/// Skyline Flux's metrics (seed 004): a metric name, a timestamp in seconds and a value, each given as a
/// JSON number or a string of one (Flux's own examples send strings), read into a Sluice measurement of
/// a series without labels.
public enum Flux {
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// How old and how far ahead a timestamp may be; `populate_metric` (backfill) has no age limit.
    public struct Window: Sendable {
        public var now: Int64
        /// nil: no limit (backfill).
        public var maxAgeNanoseconds: Int64?
        public var maxAheadNanoseconds: Int64 = 60_000_000_000

        public init(now: Int64, maxAgeNanoseconds: Int64?) {
            self.now = now
            self.maxAgeNanoseconds = maxAgeNanoseconds
        }
    }

    /// A JSON scalar as Flux clients send it.
    public enum Scalar: Sendable, Equatable, Decodable {
        case number(Double)
        case text(String)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .number(try container.decode(Double.self))
            }
        }

        var text: String {
            switch self {
            case .text(let text): text
            case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
            }
        }
    }

    /// Flux's rule for metric names: letters, digits and `+ - % . _ / = : ;`, 1–255 bytes.
    public static func problem(withMetric metric: String) -> String? {
        guard MeasurementLimits.tagBytes.contains(metric.utf8.count) else {
            return "metric must be 1–\(MeasurementLimits.tagBytes.upperBound) bytes"
        }
        let allowed = metric.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || "+-%._/=:;".utf8.contains(byte)
        }
        return allowed ? nil : "metric \(metric.debugDescription) may hold only letters, digits and + - % . _ / = : ;"
    }

    public static func measurement(metric: String?, timestamp: Scalar?, value: Scalar?, domain: String, window: Window) -> Result<Measurement, Problem> {
        guard let metric, !metric.isEmpty else { return .failure(Problem("metric is missing")) }
        if let problem = problem(withMetric: metric) { return .failure(Problem(problem)) }
        guard let timestamp else { return .failure(Problem("timestamp is missing for \(metric)")) }
        guard let time = DecimalText.nanoseconds(fromSeconds: Substring(timestamp.text)) else {
            return .failure(Problem("timestamp \(timestamp.text.debugDescription) of \(metric) is not seconds since 1970"))
        }
        if let maxAge = window.maxAgeNanoseconds, time < window.now - maxAge {
            return .failure(
                Problem(
                    "timestamp \(timestamp.text) of \(metric) is more than \(maxAge / 1_000_000_000) s old (SLUICE_FLUX_MAX_AGE_S); send history to /flux/populate_metric"
                ))
        }
        if time > window.now + window.maxAheadNanoseconds {
            return .failure(Problem("timestamp \(timestamp.text) of \(metric) is more than \(window.maxAheadNanoseconds / 1_000_000_000) s in the future"))
        }
        guard let value, let number = DecimalText.double(value.text.utf8) else {
            return .failure(Problem("value \((value?.text ?? "").debugDescription) of \(metric) is not a finite number"))
        }
        let measurement = Measurement(domain: domain, tag: metric, time: time, values: [number])
        if let problem = MeasurementLimits.problem(with: measurement) { return .failure(Problem("\(metric): \(problem)")) }
        return .success(measurement)
    }
}
