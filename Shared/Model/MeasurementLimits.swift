/// The bounds every service enforces on measurements, kept in one place so ingest and query agree.
public enum MeasurementLimits {
    public static let tagBytes = 1...255
    /// A series with labels is addressed by its whole text form (`SeriesName.canonical`), which may be longer.
    public static let labelledTagBytes = 1...1024
    public static let labelCount = 1...32
    public static let labelKeyBytes = 1...128
    public static let domainBytes = 1...64
    public static let valueCount = 1...64

    /// Checks every field of a measurement arriving at ingest.
    /// - Returns: why it is unacceptable, or nil when it is fine.
    public static func problem(with measurement: Measurement) -> String? {
        problem(withDomain: measurement.domain) ?? problem(withNewTag: measurement.tag) ?? problem(withTime: measurement.time)
            ?? problem(withValues: measurement.values)
    }

    /// Checks a tag that may already be stored: 1–255 bytes of UTF-8 and no control characters. The
    /// writer, query and bridge use this rule, so series stored before `problem(withNewTag:)` tightened
    /// stay writable from Kafka and readable.
    /// - Returns: why the tag is unacceptable, or nil when it is fine.
    public static func problem(withTag tag: String) -> String? {
        let bytes = tag.utf8.count
        if bytes == 0 { return "tag is empty; give a name of 1–255 bytes" }
        if bytes > tagBytes.upperBound {
            let labelled = !SeriesName.parse(tag).labels.isEmpty
            let limit = labelled ? labelledTagBytes.upperBound : tagBytes.upperBound
            if bytes > limit { return "tag is \(bytes) bytes long; the limit is \(limit)\(labelled ? " for a series with labels, written out" : "")" }
        }
        if tag.unicodeScalars.contains(where: isControl) {
            return "tag contains a control character; use printable characters only"
        }
        return nil
    }

    /// Checks a tag for a new measurement: `problem(withTag:)`, and none of the invisible characters that
    /// make two names look alike or reorder how a name displays.
    public static func problem(withNewTag tag: String) -> String? {
        if let problem = problem(withTag: tag) { return problem }
        if let scalar = tag.unicodeScalars.first(where: { invisible.contains($0.value) }) {
            let code = String(scalar.value, radix: 16, uppercase: true)
            return "tag contains U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code), an invisible direction or spacing mark; remove it"
        }
        return nil
    }

    /// Unicode's control characters (general category Cc: C0, DEL and C1), by value: every tag of every
    /// message is checked, and a Unicode property lookup per character costs far more.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// Bidirectional embeddings, overrides and isolates (they reorder how text displays: a tag could read
    /// as another), zero-width space, word joiner and byte-order mark. Zero-width joiner and non-joiner
    /// stay allowed: scripts such as Persian and emoji sequences need them.
    static let invisible: Set<UInt32> = Set(0x202A...0x202E).union(0x2066...0x2069).union([0x200B, 0x200E, 0x200F, 0x2060, 0xFEFF])

    /// Checks the labels of a new series: at most 32, keys as Prometheus allows (`[A-Za-z_][A-Za-z0-9_]*`,
    /// ≤ 128 bytes), values non-empty, without control characters or invisible marks.
    public static func problem(withLabels labels: [String: String]) -> String? {
        guard labels.count <= labelCount.upperBound else { return "labels has \(labels.count) entries; the limit is \(labelCount.upperBound)" }
        for (key, value) in labels.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            guard SeriesName.isLabelKey(key), labelKeyBytes.contains(key.utf8.count) else {
                return
                    "label \(key.debugDescription) is not a label name: start with a letter or '_', then letters, digits and '_', at most \(labelKeyBytes.upperBound) bytes"
            }
            guard !value.isEmpty else { return "label \(key) is empty; leave the label out instead" }
            if value.unicodeScalars.contains(where: { isControl($0) || invisible.contains($0.value) }) {
                return "label \(key) holds a control character or an invisible mark; use printable characters only"
            }
        }
        return nil
    }

    /// Checks a domain: 1–64 bytes of letters, digits, `.`, `_` and `-` (it never holds `/`, the key separator).
    public static func problem(withDomain domain: String) -> String? {
        let bytes = domain.utf8.count
        guard domainBytes.contains(bytes) else {
            return "domain must be 1–\(domainBytes.upperBound) bytes; it is \(bytes)"
        }
        let allowed = domain.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        return allowed ? nil : "domain may hold only letters, digits, '.', '_' and '-'"
    }

    /// Checks the values: 1–64 finite numbers.
    public static func problem(withValues values: [Double]) -> String? {
        guard valueCount.contains(values.count) else {
            return "values has \(values.count) numbers; send 1–\(valueCount.upperBound)"
        }
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            return "values[\(index)] is not a finite number"
        }
        return nil
    }

    /// The latest time stored: a day short of int64's end (2262-04-10), so that bucket and tier arithmetic
    /// on any stored time (a bucket's end, an hour after its start) never overflows.
    public static let latestTime: Int64 = Int64.max - 86_400_000_000_000

    /// Checks the time: nanoseconds since the Unix epoch, never negative (negative times mean "relative to
    /// now" in queries), at most `latestTime`.
    public static func problem(withTime time: Int64) -> String? {
        if time < 0 { return "time is negative; send nanoseconds since the Unix epoch" }
        if time > latestTime { return "time is after 2262-04-10, the latest Sluice stores; send nanoseconds since the Unix epoch" }
        return nil
    }
}
