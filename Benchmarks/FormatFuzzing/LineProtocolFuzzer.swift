import SluiceFormats
import SluiceModel

/// Fuzzing of the line protocol parser with two properties:
/// - round trip: random points, written out here with InfluxDB's escaping rules (an encoder independent
///   of the parser), read back as the same points;
/// - stability: any body, valid points mutated at the byte level, either is refused or reads as points
///   that, written out and read again, are the same points — and mapping them to measurements never
///   traps. A seed makes a run repeatable.
public struct LineProtocolFuzzer: FormatFuzzer {
    public static let inputs = "line protocol bodies"

    private var random: SeededGenerator

    public init(seed: UInt64) {
        random = SeededGenerator(seed: seed)
    }

    public mutating func checkOne(into run: inout FuzzRun) {
        let points = (0..<Int.random(in: 1...4, using: &random)).map { _ in randomPoint() }
        let body = Self.encode(points, decorated: &random)
        switch LineProtocol.parse(body) {
        case .success(let parsed) where Self.unnumbered(parsed) == Self.unnumbered(points): break
        case .success(let parsed):
            run.record("round trip: read \(parsed), wrote \(points)", input: Self.shown(body))
        case .failure(let refusal):
            run.record("round trip: refused: \(refusal)", input: Self.shown(body))
        }
        let mutated = random.mutate(body, alphabet: Self.mutationBytes)
        if case .success(let parsed) = LineProtocol.parse(mutated) {
            run.acceptedMutations += 1
            var quiet = SeededGenerator(seed: 0)
            let again = LineProtocol.parse(Self.encode(parsed, decorated: &quiet, plain: true))
            if case .success(let reread) = again, Self.unnumbered(reread) == Self.unnumbered(parsed) {
                _ = LineProtocol.measurements(from: parsed, domain: "fuzz", unitNanoseconds: 1_000, now: 1)
            } else {
                run.record("stability: read \(parsed), then \(again)", input: Self.shown(mutated))
            }
        }
    }

    private static func shown(_ body: [UInt8]) -> String {
        "body \(String(decoding: body, as: UTF8.self).debugDescription)"
    }

    private static func unnumbered(_ points: [LineProtocol.Point]) -> [LineProtocol.Point] {
        points.map { point in
            var copy = point
            copy.line = 0
            return copy
        }
    }

    // MARK: Generating

    /// Names with every character the escaping rules are about, and some that are not special.
    private static let nameAlphabet: [String] = ["a", "b", "z", "_", "0", "9", ".", "-", ",", "=", " ", "\\", "\"", "#", "{", "é", "日", "i", "u", "t"]
    private static let stringAlphabet: [String] = nameAlphabet + ["\n", "\t", "\r"]

    private mutating func text(_ alphabet: [String], maxLength: Int) -> String {
        var text = ""
        for _ in 0..<Int.random(in: 1...maxLength, using: &random) { text += alphabet.randomElement(using: &random) ?? "a" }
        return text
    }

    private mutating func randomPoint() -> LineProtocol.Point {
        var measurement = text(Self.nameAlphabet, maxLength: 8)
        if measurement.hasPrefix("#") { measurement = "m" + measurement }
        let tags = (0..<Int.random(in: 0...3, using: &random)).map { _ in
            (key: text(Self.nameAlphabet, maxLength: 5), value: text(Self.nameAlphabet, maxLength: 6))
        }
        let fields = (0..<Int.random(in: 1...3, using: &random)).map { _ in
            (key: text(Self.nameAlphabet, maxLength: 5), value: randomValue())
        }
        let timestamp: Int64? =
            Bool.random(using: &random) ? nil : Int64.random(in: Int64.min...Int64.max, using: &random) >> Int64.random(in: 0...63, using: &random)
        return LineProtocol.Point(measurement: measurement, tags: tags, fields: fields, timestamp: timestamp, line: 0)
    }

    private mutating func randomValue() -> LineProtocol.FieldValue {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: .float(Double(Int.random(in: -1000...1000, using: &random)))
        case 1: .float(Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF) * (Bool.random(using: &random) ? 1 : -1))
        case 2: .integer(Int64.random(in: Int64.min...Int64.max, using: &random))
        case 3: .unsigned(UInt64.random(in: 0...UInt64.max, using: &random))
        case 4: .boolean(Bool.random(using: &random))
        default: .string(text(Self.stringAlphabet, maxLength: 6))
        }
    }

    // MARK: Writing, independently of the parser

    /// Line protocol for `points`, one per line; unless `plain`, with comments, blank lines, CRLF line
    /// ends, extra spaces and every boolean spelling mixed in.
    static func encode(_ points: [LineProtocol.Point], decorated random: inout SeededGenerator, plain: Bool = false) -> [UInt8] {
        var out = ""
        for point in points {
            if !plain, Int.random(in: 0..<8, using: &random) == 0 { out += Bool.random(using: &random) ? "# a comment, with = and \"\n" : "\n" }
            out += escaped(point.measurement, special: [",", " "])
            for (key, value) in point.tags {
                out += "," + escaped(key, special: [",", "=", " "]) + "=" + escaped(value, special: [",", "=", " "])
            }
            out += plain || Bool.random(using: &random) ? " " : "  "
            out += point.fields.map { key, value in escaped(key, special: [",", "=", " "]) + "=" + written(value, &random, plain: plain) }.joined(
                separator: ",")
            if let timestamp = point.timestamp { out += " \(timestamp)" }
            out += !plain && Bool.random(using: &random) ? "\r\n" : "\n"
        }
        return Array(out.utf8)
    }

    private static func escaped(_ text: String, special: Set<Character>) -> String {
        var out = ""
        for character in text {
            if character == "\\" || special.contains(character) { out += "\\" }
            out.append(character)
        }
        return out
    }

    private static func written(_ value: LineProtocol.FieldValue, _ random: inout SeededGenerator, plain: Bool) -> String {
        switch value {
        case .float(let double): return "\(double)"
        case .integer(let integer): return "\(integer)i"
        case .unsigned(let unsigned): return "\(unsigned)u"
        case .boolean(let boolean):
            let spellings = boolean ? ["t", "T", "true", "True", "TRUE"] : ["f", "F", "false", "False", "FALSE"]
            return plain ? spellings[2] : spellings.randomElement(using: &random) ?? spellings[0]
        case .string(let string):
            var out = "\""
            for character in string {
                if character == "\"" || character == "\\" { out += "\\" }
                out.append(character)
            }
            return out + "\""
        }
    }

    // MARK: Mutating

    private static let mutationBytes: [UInt8] = Array(",= \\\"\n\r\t#0123456789.-+eEiutfTF{}".utf8) + [0x00, 0x7F, 0xC3, 0xFF]
}
