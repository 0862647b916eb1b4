import SluiceModel

/// Label names from agents that allow more than Prometheus does (InfluxDB tag keys such as `host-name`,
/// Graphite path parts): every byte outside `[A-Za-z0-9_]` becomes `_`, and a leading digit gets a `_`
/// in front, as Prometheus' own exporters do. Two keys that become the same refuse their point.
public enum LabelKey {
    public static func sanitized(_ key: String) -> String {
        if SeriesName.isLabelKey(key) { return key }
        var bytes = key.utf8.map { byte -> UInt8 in
            let allowed = byte == UInt8(ascii: "_") || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            return allowed ? byte : UInt8(ascii: "_")
        }
        if let first = bytes.first, first >= 0x30, first <= 0x39 { bytes.insert(UInt8(ascii: "_"), at: 0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Tags as labels: sanitized keys, or the pair of tags whose keys collide.
    public static func labels(from tags: [(key: String, value: String)]) -> Result<[String: String], LabelCollision> {
        var labels: [String: String] = [:]
        var originals: [String: String] = [:]
        for (key, value) in tags {
            let label = sanitized(key)
            if let earlier = originals[label] {
                return .failure(LabelCollision(first: earlier, second: key, label: label))
            }
            originals[label] = key
            labels[label] = value
        }
        return .success(labels)
    }

    public struct LabelCollision: Error, Sendable, CustomStringConvertible {
        public var first: String
        public var second: String
        public var label: String
        public var description: String {
            first == second
                ? "tag \(first.debugDescription) appears twice"
                : "tags \(first.debugDescription) and \(second.debugDescription) both become label \(label) (label names hold only letters, digits and '_')"
        }
    }
}
