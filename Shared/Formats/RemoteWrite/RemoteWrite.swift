import SluiceModel
import SwiftProtobuf

/// Prometheus remote write 1.0: a snappy block-compressed protobuf `WriteRequest`. Each time series is
/// one Sluice series, `__name__` its name and the other labels its labels (a label with an empty value
/// is no label, as in Prometheus), each sample one measurement with one value, milliseconds made
/// nanoseconds.
///
/// Unlike `/save`, a request is not refused for one series Sluice cannot store: Prometheus drops a
/// batch answered 400 and would drop every later batch holding that series too, so one bad series
/// would silence a whole server. Such samples are skipped and counted by reason (and named in the log);
/// only a body that cannot be read at all is refused.
public enum RemoteWrite {
    /// Why a sample was not stored.
    public enum SkipReason: String, Sendable, CaseIterable {
        /// Prometheus' staleness marker (a NaN with a fixed bit pattern): "this series ended", not a value.
        case staleMarker = "stale_marker"
        /// NaN or ±Inf (a summary quantile with no observations, a division by zero): Sluice stores finite numbers.
        case nonFinite = "non_finite"
        /// No `__name__`, too many labels, a label name or value Sluice refuses, a name too long.
        case invalidSeries = "invalid_series"
        /// Before 1970 or after 2262.
        case invalidTime = "invalid_time"
        /// A native histogram sample: Sluice stores floats.
        case histogram = "histogram"
    }

    public struct Decoded: Sendable {
        public var measurements: [Measurement] = []
        public var skipped: [SkipReason: Int] = [:]
        /// Up to five skipped series with the reason, for the log.
        public var examples: [String] = []

        mutating func skip(_ reason: SkipReason, _ count: Int = 1, series: @autoclosure () -> String) {
            guard count > 0 else { return }
            skipped[reason, default: 0] += count
            if examples.count < 5, reason != .staleMarker { examples.append("\(series()): \(reason.rawValue)") }
        }
    }

    public enum Problem: Error, Sendable, CustomStringConvertible {
        case compression(Snappy.Problem)
        case protobuf(String)

        public var description: String {
            switch self {
            case .compression(let problem): "\(problem) (remote write bodies are snappy block-compressed)"
            case .protobuf(let why): "the body is not a protobuf WriteRequest: \(why)"
            }
        }
    }

    /// Prometheus' staleness marker, `value.StaleNaN`.
    static let staleMarkerBits: UInt64 = 0x7FF0_0000_0000_0002

    /// - Parameter limit: the most bytes the body may inflate to.
    public static func decode(_ body: [UInt8], domain: String, limit: Int) throws(Problem) -> Decoded {
        let bytes: [UInt8]
        do {
            bytes = try Snappy.decompress(body, limit: limit)
        } catch {
            throw .compression(error)
        }
        let request: Prometheus_WriteRequest
        do {
            request = try Prometheus_WriteRequest(serializedBytes: bytes)
        } catch {
            throw .protobuf("\(error)")
        }
        var decoded = Decoded()
        decoded.measurements.reserveCapacity(request.timeseries.reduce(0) { $0 + $1.samples.count })
        for series in request.timeseries {
            store(series, domain: domain, into: &decoded)
        }
        return decoded
    }

    private static func store(_ series: Prometheus_TimeSeries, domain: String, into decoded: inout Decoded) {
        var name = ""
        var labels: [String: String] = [:]
        var duplicate = false
        for label in series.labels where !label.value.isEmpty {
            if label.name == "__name__" {
                name = label.value
            } else if labels.updateValue(label.value, forKey: label.name) != nil {
                duplicate = true
            }
        }
        let text = { SeriesName(name: name, labels: labels).canonical }
        decoded.skip(.histogram, series.histograms.count, series: text())
        guard !series.samples.isEmpty else { return }
        guard !name.isEmpty, !duplicate, !name.utf8.contains(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") }),
            MeasurementLimits.problem(withLabels: labels) == nil
        else {
            decoded.skip(.invalidSeries, series.samples.count, series: text())
            return
        }
        let tag = text()
        guard MeasurementLimits.problem(withNewTag: tag) == nil else {
            decoded.skip(.invalidSeries, series.samples.count, series: tag)
            return
        }
        for sample in series.samples {
            guard sample.value.isFinite else {
                decoded.skip(sample.value.bitPattern == staleMarkerBits ? .staleMarker : .nonFinite, series: tag)
                continue
            }
            let (time, overflow) = sample.timestamp.multipliedReportingOverflow(by: 1_000_000)
            guard !overflow, MeasurementLimits.problem(withTime: time) == nil else {
                decoded.skip(.invalidTime, series: tag)
                continue
            }
            decoded.measurements.append(Measurement(domain: domain, tag: tag, time: time, values: [sample.value]))
        }
    }
}
