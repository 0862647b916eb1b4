import SluiceModel

/// Graphite's plaintext protocol, one metric per line, as collectd's `write_graphite`, StatsD and
/// carbon relays send it:
///
///     <path>[;tag=value…] <value> <timestamp>
///
/// The path is the series name, Graphite 1.1 tags its labels (keys made label names by `LabelKey`);
/// the value one finite number; the timestamp seconds since the epoch, with a fraction if the sender
/// has one, or `-1` for the time it arrives.
public enum Graphite {
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The measurement a line holds.
    /// - Parameter now: the time for `-1`, in nanoseconds.
    public static func measurement(line: Substring, domain: String, now: Int64) -> Result<Measurement, Problem> {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 3 else {
            return .failure(Problem(message: "expected '<path> <value> <timestamp>', got \(fields.count) field\(fields.count == 1 ? "" : "s")"))
        }
        var parts = fields[0].split(separator: ";", omittingEmptySubsequences: false)
        let path = String(parts.removeFirst())
        guard !path.isEmpty else { return .failure(Problem(message: "the path is empty")) }
        if path.utf8.contains(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") }) {
            return .failure(Problem(message: "path \(path.debugDescription) holds '{' or '}', which Sluice reserves for labels"))
        }
        var tags: [(key: String, value: String)] = []
        for part in parts {
            guard let equals = part.firstIndex(of: "="), equals != part.startIndex, part.index(after: equals) != part.endIndex else {
                return .failure(Problem(message: "tag \(String(part).debugDescription) is not name=value"))
            }
            tags.append((String(part[..<equals]), String(part[part.index(after: equals)...])))
        }
        let labels: [String: String]
        switch LabelKey.labels(from: tags) {
        case .success(let found): labels = found
        case .failure(let collision): return .failure(Problem(message: collision.description))
        }
        guard let value = DecimalText.double(fields[1].utf8) else {
            return .failure(Problem(message: "value \(String(fields[1]).debugDescription) is not a finite number"))
        }
        guard let time = fields[2] == "-1" ? now : DecimalText.nanoseconds(fromSeconds: fields[2]) else {
            return .failure(Problem(message: "timestamp \(String(fields[2]).debugDescription) is not seconds since 1970"))
        }
        let measurement = Measurement(domain: domain, tag: SeriesName(name: path, labels: labels).canonical, time: time, values: [value])
        if let problem = MeasurementLimits.problem(withLabels: labels) ?? MeasurementLimits.problem(with: measurement) {
            return .failure(Problem(message: problem))
        }
        return .success(measurement)
    }
}
