/// InfluxDB line protocol (1.x and 2.x), as Telegraf and the InfluxDB client libraries send it:
///
///     measurement[,tag=value…] field=value[,field=value…] [timestamp]
///
/// Read byte by byte with InfluxDB's escaping rules: in a measurement `\,` and `\ `; in tag keys, tag
/// values and field keys also `\=`; everywhere `\\` is one backslash and a backslash before anything else
/// is kept as it is. Field values are floats (`1`, `-1.5`, `2e3`), integers (`12i`), unsigned integers
/// (`12u`), booleans (`t`, `true`, `F`, …) and strings (`"…"` with `\"` and `\\`). Lines starting with
/// `#` are comments; blank lines are skipped.
public enum LineProtocol {
    public enum FieldValue: Sendable, Equatable {
        case float(Double)
        case integer(Int64)
        case unsigned(UInt64)
        case boolean(Bool)
        case string(String)
    }

    public struct Point: Sendable, Equatable {
        public var measurement: String
        public var tags: [(key: String, value: String)]
        public var fields: [(key: String, value: FieldValue)]
        /// In the request's precision; nil when the line has none (the server's time is used).
        public var timestamp: Int64?
        /// 1-based, for error messages.
        public var line: Int

        public init(measurement: String, tags: [(key: String, value: String)], fields: [(key: String, value: FieldValue)], timestamp: Int64?, line: Int) {
            self.measurement = measurement
            self.tags = tags
            self.fields = fields
            self.timestamp = timestamp
            self.line = line
        }

        public static func == (a: Point, b: Point) -> Bool {
            a.measurement == b.measurement && a.timestamp == b.timestamp && a.line == b.line
                && a.tags.elementsEqual(b.tags) { $0.key == $1.key && $0.value == $1.value }
                && a.fields.elementsEqual(b.fields) { $0.key == $1.key && $0.value == $1.value }
        }
    }

    /// Why a line cannot be read, with its 1-based number.
    public struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// The lines of a body that cannot be read or stored (the first few).
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var problems: [SyntaxError]
        public var description: String { problems.map(\.description).joined(separator: "; ") }
    }

    /// Every point of a body, or the first `limit` lines that cannot be read.
    public static func parse(_ body: [UInt8], problemLimit limit: Int = 10) -> Result<[Point], Refusal> {
        var reader = Reader(bytes: body)
        var points: [Point] = []
        var problems: [SyntaxError] = []
        while let outcome = reader.nextLine() {
            switch outcome {
            case .success(let point): points.append(point)
            case .failure(let problem):
                problems.append(problem)
                if problems.count >= limit { return .failure(Refusal(problems: problems)) }
            }
        }
        return problems.isEmpty ? .success(points) : .failure(Refusal(problems: problems))
    }

    /// A request's `precision`: how many nanoseconds one unit of its timestamps is.
    public static func nanosecondsPerUnit(precision: String) -> Int64? {
        switch precision {
        case "", "n", "ns": 1
        case "u", "us", "µ", "µs": 1_000
        case "ms": 1_000_000
        case "s": 1_000_000_000
        case "m": 60_000_000_000
        case "h": 3_600_000_000_000
        default: nil
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0
        var line = 0

        static let newline = UInt8(ascii: "\n")
        static let carriageReturn = UInt8(ascii: "\r")
        static let space = UInt8(ascii: " ")
        static let tab = UInt8(ascii: "\t")
        static let comma = UInt8(ascii: ",")
        static let equals = UInt8(ascii: "=")
        static let quote = UInt8(ascii: "\"")
        static let backslash = UInt8(ascii: "\\")

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        var atEnd: Bool { index >= bytes.count }
        var current: UInt8 { bytes[index] }

        /// The next non-blank, non-comment line's point or problem; nil at the end of the body. After a
        /// problem the rest of its line is skipped, so one bad line never hides the next.
        mutating func nextLine() -> Result<Point, SyntaxError>? {
            while !atEnd {
                line += 1
                skipWhitespace()
                if atEnd { return nil }
                if current == Self.newline || current == Self.carriageReturn {
                    skipToNextLine()
                    continue
                }
                if current == UInt8(ascii: "#") {
                    skipToNextLine()
                    continue
                }
                let number = line
                var outcome = readPoint()
                if case .failure = outcome { skipToNextLine() }
                if case .success(var point) = outcome {
                    point.line = number
                    outcome = .success(point)
                }
                return outcome.mapError { SyntaxError(line: number, message: $0.message) }
            }
            return nil
        }

        private struct Problem: Error {
            var message: String
        }

        private mutating func readPoint() -> Result<Point, Problem> {
            do {
                let measurement = try readText(stoppingAt: [Self.comma, Self.space, Self.tab], escapable: [Self.comma, Self.space], what: "measurement")
                var tags: [(key: String, value: String)] = []
                while !atEnd, current == Self.comma {
                    index += 1
                    let key = try readText(
                        stoppingAt: [Self.equals, Self.comma, Self.space, Self.tab], escapable: [Self.comma, Self.equals, Self.space], what: "tag key")
                    try expect(Self.equals, "tag \(key.debugDescription) has no '=' and value")
                    let value = try readText(
                        stoppingAt: [Self.comma, Self.space, Self.tab], escapable: [Self.comma, Self.equals, Self.space],
                        what: "value of tag \(key.debugDescription)")
                    tags.append((key, value))
                }
                guard !atEnd, current == Self.space || current == Self.tab else {
                    throw Problem(message: "no field set after \(tags.isEmpty ? "the measurement" : "the tags")")
                }
                skipWhitespace()
                var fields: [(key: String, value: FieldValue)] = []
                repeat {
                    if !fields.isEmpty { index += 1 }
                    let key = try readText(
                        stoppingAt: [Self.equals, Self.comma, Self.space, Self.tab], escapable: [Self.comma, Self.equals, Self.space], what: "field key")
                    try expect(Self.equals, "field \(key.debugDescription) has no '=' and value")
                    fields.append((key, try readFieldValue(key: key)))
                } while !atEnd && current == Self.comma
                var timestamp: Int64?
                if !atEnd, current == Self.space || current == Self.tab {
                    skipWhitespace()
                    if !atEnd, current != Self.newline, current != Self.carriageReturn {
                        timestamp = try readTimestamp()
                        skipWhitespace()
                    }
                }
                if !atEnd, current == Self.carriageReturn { index += 1 }
                guard atEnd || current == Self.newline else {
                    throw Problem(message: "unexpected \(Self.describe(current)) after the \(timestamp == nil ? "fields" : "timestamp")")
                }
                if !atEnd { index += 1 }
                return .success(Point(measurement: measurement, tags: tags, fields: fields, timestamp: timestamp, line: 0))
            } catch let problem as Problem {
                return .failure(problem)
            } catch {
                return .failure(Problem(message: "\(error)"))
            }
        }

        private mutating func expect(_ byte: UInt8, _ message: @autoclosure () -> String) throws {
            guard !atEnd, current == byte else { throw Problem(message: message()) }
            index += 1
        }

        /// Reads up to an unescaped stop byte or the end of the line; empty text is a problem.
        private mutating func readText(stoppingAt stops: [UInt8], escapable: [UInt8], what: String) throws -> String {
            var text: [UInt8] = []
            while !atEnd {
                let byte = current
                if byte == Self.newline || stops.contains(byte) { break }
                if byte == Self.backslash, index + 1 < bytes.count {
                    let next = bytes[index + 1]
                    if escapable.contains(next) || next == Self.backslash {
                        text.append(next)
                        index += 2
                        continue
                    }
                }
                text.append(byte)
                index += 1
            }
            if text.last == Self.carriageReturn, atEnd || current == Self.newline { text.removeLast() }
            guard !text.isEmpty else { throw Problem(message: "\(what) is missing") }
            return String(decoding: text, as: UTF8.self)
        }

        private mutating func readFieldValue(key: String) throws -> FieldValue {
            guard !atEnd else { throw Problem(message: "field \(key.debugDescription) has no value") }
            if current == Self.quote {
                index += 1
                var text: [UInt8] = []
                while !atEnd {
                    let byte = current
                    if byte == Self.quote {
                        index += 1
                        return .string(String(decoding: text, as: UTF8.self))
                    }
                    // A string may span lines; the lines after it keep their numbers.
                    if byte == Self.newline { line += 1 }
                    if byte == Self.backslash, index + 1 < bytes.count, bytes[index + 1] == Self.quote || bytes[index + 1] == Self.backslash {
                        text.append(bytes[index + 1])
                        index += 2
                        continue
                    }
                    text.append(byte)
                    index += 1
                }
                throw Problem(message: "the string value of field \(key.debugDescription) has no closing quote")
            }
            let start = index
            while !atEnd, current != Self.comma, current != Self.space, current != Self.tab, current != Self.newline, current != Self.carriageReturn {
                index += 1
            }
            let token = bytes[start..<index]
            guard let value = Self.fieldValue(token) else {
                throw Problem(
                    message:
                        "field \(key.debugDescription) has value \(String(decoding: token, as: UTF8.self).debugDescription): not a float, integer (12i), unsigned (12u), boolean or quoted string"
                )
            }
            return value
        }

        private mutating func readTimestamp() throws -> Int64 {
            let start = index
            while !atEnd, current != Self.space, current != Self.tab, current != Self.newline, current != Self.carriageReturn { index += 1 }
            let token = bytes[start..<index]
            guard let value = Self.integer(token) else {
                throw Problem(message: "timestamp \(String(decoding: token, as: UTF8.self).debugDescription) is not an integer")
            }
            return value
        }

        static func fieldValue(_ token: ArraySlice<UInt8>) -> FieldValue? {
            guard let last = token.last else { return nil }
            switch last {
            case UInt8(ascii: "i"): return integer(token.dropLast()).map(FieldValue.integer)
            case UInt8(ascii: "u"): return unsigned(token.dropLast()).map(FieldValue.unsigned)
            default: break
            }
            switch String(decoding: token, as: UTF8.self) {
            case "t", "T", "true", "True", "TRUE": return .boolean(true)
            case "f", "F", "false", "False", "FALSE": return .boolean(false)
            default: return DecimalText.double(token).map(FieldValue.float)
            }
        }

        static func integer(_ token: ArraySlice<UInt8>) -> Int64? {
            var digits = token
            let negative = digits.first == UInt8(ascii: "-")
            if negative || digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.count <= 19 else { return nil }
            var value: Int64 = 0
            for byte in digits {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
                let (next, overflowB) = negative ? shifted.subtractingReportingOverflow(Int64(byte - 48)) : shifted.addingReportingOverflow(Int64(byte - 48))
                guard !overflowA, !overflowB else { return nil }
                value = next
            }
            return value
        }

        static func unsigned(_ token: ArraySlice<UInt8>) -> UInt64? {
            guard !token.isEmpty, token.count <= 20 else { return nil }
            var value: UInt64 = 0
            for byte in token {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
                let (next, overflowB) = shifted.addingReportingOverflow(UInt64(byte - 48))
                guard !overflowA, !overflowB else { return nil }
                value = next
            }
            return value
        }

        private mutating func skipWhitespace() {
            while !atEnd, current == Self.space || current == Self.tab { index += 1 }
        }

        private mutating func skipToNextLine() {
            while !atEnd, current != Self.newline { index += 1 }
            if !atEnd { index += 1 }
        }

        static func describe(_ byte: UInt8) -> String {
            byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        }
    }
}
