import Foundation
import SluiceModel

/// Reads the one message shape ingest nearly always receives in a single pass over the bytes.
///
/// Foundation's `JSONDecoder` was a third of ingest's CPU (BENCHMARKS.md: generic metadata lookups and a
/// container per value). This scanner handles only what it can read with certainty: objects holding
/// `time`, `tag`, `values` and optionally `domain` and `labels` (an object of strings, valid and for a
/// tag without braces: the series is then named as the general decoder names it), strings without
/// escapes, plain JSON numbers. On
/// anything else — an escape, an unknown or repeated key, a missing field, a number it cannot represent,
/// a syntax error — it gives up and the general decoder reads the whole body, so every error message
/// and edge case behaves as before.
struct MessageScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position: Int
    /// False in NDJSON, where the general decoder reads each line alone: an object may not span lines.
    private var newlinesAreWhitespace = true

    /// How the body holds its messages (the caller detects it, as for the general decoder).
    enum Layout {
        case object, array, lines
    }

    /// The messages of a body, in order and not yet checked against `MeasurementLimits`; nil when the
    /// general decoder must read it.
    static func measurements(in body: [UInt8], layout: Layout) -> [SluiceModel.Measurement]? {
        body.withUnsafeBufferPointer { measurements(in: $0, layout: layout) }
    }

    /// The same, over bytes the caller holds (ingest reads the request's own buffer, without a copy).
    static func measurements(in body: UnsafeBufferPointer<UInt8>, layout: Layout) -> [SluiceModel.Measurement]? {
        var scanner = MessageScanner(bytes: body, position: 0)
        switch layout {
        case .object: return scanner.singleObject()
        case .array: return scanner.array()
        case .lines: return scanner.lines()
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, position: Int) {
        self.bytes = bytes
        self.position = position
    }

    // MARK: - Layouts

    private mutating func singleObject() -> [SluiceModel.Measurement]? {
        skipWhitespace()
        guard let measurement = object() else { return nil }
        skipWhitespace()
        return position == bytes.count ? [measurement] : nil
    }

    private mutating func array() -> [SluiceModel.Measurement]? {
        skipWhitespace()
        guard take(UInt8(ascii: "[")) else { return nil }
        var measurements: [SluiceModel.Measurement] = []
        skipWhitespace()
        if !take(UInt8(ascii: "]")) {
            while true {
                skipWhitespace()
                guard let measurement = object() else { return nil }
                measurements.append(measurement)
                skipWhitespace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "]")) else { return nil }
                break
            }
        }
        skipWhitespace()
        return position == bytes.count ? measurements : nil
    }

    /// NDJSON: one object per line; blank lines are skipped, as the general decoder does.
    private mutating func lines() -> [SluiceModel.Measurement]? {
        newlinesAreWhitespace = false
        var measurements: [SluiceModel.Measurement] = []
        while position < bytes.count {
            skipBlanks()
            guard position < bytes.count else { break }
            if bytes[position] == UInt8(ascii: "\n") {
                position += 1
                continue
            }
            guard let measurement = object() else { return nil }
            measurements.append(measurement)
            skipBlanks()
            guard position == bytes.count || take(UInt8(ascii: "\n")) else { return nil }
        }
        return measurements
    }

    // MARK: - One message

    private mutating func object() -> SluiceModel.Measurement? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var time: Int64?
        var tag: String?
        var values: [Double]?
        var domain: String?
        var labels: [String: String]?
        repeat {
            skipWhitespace()
            guard let key = key() else { return nil }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            // A value the scanner cannot read ends the scan: reading on could take a later repeat of the key
            // that the general decoder never reaches (it refuses the body at the first bad value).
            switch key {
            case .time where time == nil:
                guard let read = integer() else { return nil }
                time = read
            case .tag where tag == nil:
                guard let read = string() else { return nil }
                tag = read
            case .values where values == nil:
                guard let read = numbers() else { return nil }
                values = read
            case .domain where domain == nil:
                guard let read = string() else { return nil }
                domain = read
            case .labels where labels == nil:
                guard let read = stringObject() else { return nil }
                labels = read
            default: return nil  // a repeated key
            }
            skipWhitespace()
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")), let time, let tag, let values else { return nil }
        // The series' one text form, made here where its structure is known (`IngestBody` takes it as is).
        let series: String
        if let labels, !labels.isEmpty {
            // Labels the general decoder would refuse, it reads and explains.
            guard MeasurementLimits.problem(withLabels: labels) == nil, !tag.contains("{") else { return nil }
            series = SeriesName(name: tag, labels: labels).canonical
        } else {
            series = SeriesName.canonicalize(tag)
        }
        return SluiceModel.Measurement(domain: domain ?? SluiceModel.Measurement.defaultDomain, tag: series, time: time, values: values)
    }

    private enum Key: CaseIterable {
        case time, tag, values, domain, labels

        var utf8: [UInt8] {
            switch self {
            case .time: Array("time".utf8)
            case .tag: Array("tag".utf8)
            case .values: Array("values".utf8)
            case .domain: Array("domain".utf8)
            case .labels: Array("labels".utf8)
            }
        }

        static let spellings = allCases.map { ($0, $0.utf8) }
    }

    // MARK: - Values

    /// One of the five keys, written without escapes; nil for anything else.
    private mutating func key() -> Key? {
        guard let range = plainStringRange() else { return nil }
        return Key.spellings.first { $0.1.elementsEqual(bytes[range]) }?.0
    }

    private mutating func string() -> String? {
        guard let range = plainStringRange() else { return nil }
        return String(validating: bytes[range], as: UTF8.self)
    }

    /// `{"name": "value", …}` of plain strings; nil for anything else, a repeated name included.
    private mutating func stringObject() -> [String: String]? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var object: [String: String] = [:]
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return object }
        repeat {
            skipWhitespace()
            guard let name = string() else { return nil }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            guard let value = string(), object.updateValue(value, forKey: name) == nil else { return nil }
            skipWhitespace()
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}")) ? object : nil
    }

    /// The contents of a string without escapes or raw control characters (which JSON forbids).
    private mutating func plainStringRange() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return start..<(position - 1)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            position += 1
        }
        return nil
    }

    /// An integer without fraction or exponent that fits in Int64.
    private mutating func integer() -> Int64? {
        let negative = take(UInt8(ascii: "-"))
        let start = position
        var value: Int64 = 0
        while position < bytes.count, let digit = Self.digit(bytes[position]) {
            // Accumulate towards the sign, so that Int64.min is reachable.
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return nil }
            value = next
            position += 1
        }
        let length = position - start
        guard length > 0, length == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        if position < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) { return nil }
        return value
    }

    private mutating func numbers() -> [Double]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var values: [Double] = []
        skipWhitespace()
        if take(UInt8(ascii: "]")) { return values }
        repeat {
            skipWhitespace()
            guard let value = number() else { return nil }
            values.append(value)
            skipWhitespace()
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? values : nil
    }

    /// A JSON number, parsed with correct rounding; nil when it is not one, or not finite.
    private mutating func number() -> Double? {
        let start = position
        _ = take(UInt8(ascii: "-"))
        let integerStart = position
        guard skipDigits() > 0 else { return nil }
        if bytes[integerStart] == UInt8(ascii: "0"), position - integerStart > 1 { return nil }
        if take(UInt8(ascii: ".")), skipDigits() == 0 { return nil }
        let mantissaEnd = position
        if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
            if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
            guard skipDigits() > 0 else { return nil }
        }
        let length = position - start
        guard length <= Self.longestNumber else { return nil }
        // strtod (correctly rounded) needs a terminated copy. The grammar above already matched JSON; should
        // strtod stop early anyway (a locale whose decimal separator is not '.'), the body goes to the
        // general decoder.
        let value = withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { text -> Double? in
            for offset in 0..<length { text[offset] = CChar(bitPattern: bytes[start + offset]) }
            text[length] = 0
            guard let base = text.baseAddress else { return nil }
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(base, &end)
            return end == base + length ? value : nil
        }
        guard let value, value.isFinite else { return nil }
        // JSONDecoder refuses a number that is not zero but rounds to zero (such as 1e-400); so must this.
        if value == 0, bytes[start..<mantissaEnd].contains(where: { $0 >= UInt8(ascii: "1") && $0 <= UInt8(ascii: "9") }) { return nil }
        return value
    }

    /// Longer numbers are left to the general decoder.
    private static let longestNumber = 64

    // MARK: - Bytes

    private mutating func take(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func skipDigits() -> Int {
        let start = position
        while position < bytes.count, Self.digit(bytes[position]) != nil { position += 1 }
        return position - start
    }

    private mutating func skipWhitespace() {
        guard newlinesAreWhitespace else { return skipBlanks() }
        while position < bytes.count, IngestBodyDecoder.isWhitespace(bytes[position]) { position += 1 }
    }

    /// Whitespace within a line: everything but the newline that ends it.
    private mutating func skipBlanks() {
        while position < bytes.count, bytes[position] != UInt8(ascii: "\n"), IngestBodyDecoder.isWhitespace(bytes[position]) { position += 1 }
    }

    private static func digit(_ byte: UInt8) -> Int64? {
        byte >= 0x30 && byte <= 0x39 ? Int64(byte - 0x30) : nil
    }
}
