/// A series' name and labels, and the one text form that addresses it everywhere (the Kafka key, the
/// `series.tag` column, `/api?tag=`, the bridge): the name alone when there are no labels, otherwise
/// `name{k1="v1",k2="v2"}` with keys in byte order and `\`, `"` and newlines in values written `\\`,
/// `\"` and `\n`, as Prometheus writes series. A seed-003 tag is a name without labels, unchanged.
public struct SeriesName: Sendable, Equatable {
    public var name: String
    /// Label keys to values; keys are distinct by construction.
    public var labels: [String: String]

    public init(name: String, labels: [String: String] = [:]) {
        self.name = name
        self.labels = labels
    }

    /// Keys in UTF-8 byte order, as PostgreSQL and the canonical form order them.
    public var sortedLabels: [(key: String, value: String)] {
        labels.map { (key: $0.key, value: $0.value) }.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    /// Written byte by byte: ingest makes one for every labelled message, and building it from
    /// interpolated strings cost half a microsecond a message. The escaped characters are ASCII, which
    /// no byte of a multi-byte UTF-8 character equals, so escaping bytes escapes characters.
    public var canonical: String {
        guard !labels.isEmpty else { return name }
        var text: [UInt8] = []
        text.reserveCapacity(name.utf8.count + 2 + labels.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 4 })
        text.append(contentsOf: name.utf8)
        text.append(UInt8(ascii: "{"))
        for (index, label) in sortedLabels.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            text.append(contentsOf: label.key.utf8)
            text.append(UInt8(ascii: "="))
            text.append(UInt8(ascii: "\""))
            for byte in label.value.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): text.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case UInt8(ascii: "\""): text.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\n"): text.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                default: text.append(byte)
                }
            }
            text.append(UInt8(ascii: "\""))
        }
        text.append(UInt8(ascii: "}"))
        return String(decoding: text, as: UTF8.self)
    }

    /// Reads a series' text form. Text that is not a well-formed `name{k="v",…}` is a plain name (so every
    /// tag stored before labels existed keeps meaning what it meant); labels in any order read the same.
    public static func parse(_ text: String) -> SeriesName {
        let bytes = Array(text.utf8)
        guard bytes.last == UInt8(ascii: "}"), let open = bytes.firstIndex(of: UInt8(ascii: "{")), open > 0 else {
            return SeriesName(name: text)
        }
        var labels: [String: String] = [:]
        var index = open + 1
        let end = bytes.count - 1
        while index < end {
            // key
            let keyStart = index
            while index < end, bytes[index] != UInt8(ascii: "=") { index += 1 }
            guard index < end, index + 1 < end, bytes[index + 1] == UInt8(ascii: "\"") else { return SeriesName(name: text) }
            let key = String(decoding: bytes[keyStart..<index], as: UTF8.self)
            guard isLabelKey(key), labels[key] == nil else { return SeriesName(name: text) }
            index += 2
            // value, up to the closing quote
            var value: [UInt8] = []
            var closed = false
            while index < end {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") {
                    guard index + 1 < end else { return SeriesName(name: text) }
                    switch bytes[index + 1] {
                    case UInt8(ascii: "\\"): value.append(UInt8(ascii: "\\"))
                    case UInt8(ascii: "\""): value.append(UInt8(ascii: "\""))
                    case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                    default: return SeriesName(name: text)
                    }
                    index += 2
                } else if byte == UInt8(ascii: "\"") {
                    closed = true
                    index += 1
                    break
                } else {
                    value.append(byte)
                    index += 1
                }
            }
            guard closed else { return SeriesName(name: text) }
            labels[key] = String(decoding: value, as: UTF8.self)
            if index < end {
                guard bytes[index] == UInt8(ascii: ",") else { return SeriesName(name: text) }
                index += 1
            }
        }
        guard !labels.isEmpty else { return SeriesName(name: text) }
        return SeriesName(name: String(decoding: bytes[..<open], as: UTF8.self), labels: labels)
    }

    /// The canonical form of a tag as a client wrote it: a label form in any key order becomes the one
    /// text the series is stored under; anything else is returned as it is (cheaply: only text ending
    /// in `}` is parsed).
    public static func canonicalize(_ tag: String) -> String {
        guard tag.utf8.last == UInt8(ascii: "}") else { return tag }
        return parse(tag).canonical
    }

    /// Prometheus' rule for label names: a letter or `_`, then letters, digits and `_`.
    public static func isLabelKey(_ key: String) -> Bool {
        guard let first = key.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return key.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
