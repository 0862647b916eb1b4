import Ingest
import SluiceModel

/// Differential fuzzing of how ingest reads bodies: the one-pass `MessageScanner` (the fast path) must
/// agree with Foundation's `JSONDecoder` (the general path) on every input — the same measurements, bit
/// for bit, or the same refusal. Bodies are producer-like messages with edge-case fields, in every
/// layout, then mutated at the byte level; a seed makes a run repeatable.
public struct BodyFuzzer {
    /// An input on which the two paths disagree.
    public struct Disagreement: Sendable, CustomStringConvertible {
        public var body: [UInt8]
        public var isNDJSON: Bool
        public var fast: String
        public var general: String

        public var description: String {
            "body \(String(decoding: body, as: UTF8.self).debugDescription) (ndjson \(isNDJSON)):\n  scanner: \(fast)\n  decoder: \(general)"
        }
    }

    private var random: SeededGenerator
    private let fast = IngestBodyDecoder(usesScanner: true)
    private let general = IngestBodyDecoder(usesScanner: false)

    public init(seed: UInt64) {
        random = SeededGenerator(seed: seed)
    }

    /// Checks `iterations` generated bodies, each read as NDJSON and as detected.
    /// - Parameter progress: called every `progressEvery` bodies with the count so far.
    public mutating func run(
        iterations: Int, progressEvery: Int = 100_000, progress: (Int) -> Void = { _ in }
    ) -> (checked: Int, accepted: Int, disagreements: [Disagreement]) {
        var disagreements: [Disagreement] = []
        var accepted = 0
        for iteration in 1...max(1, iterations) {
            let body = nextBody()
            for isNDJSON in [false, true] {
                let (fastOutcome, generalOutcome) = (outcome(fast, body, isNDJSON), outcome(general, body, isNDJSON))
                if fastOutcome != generalOutcome {
                    if disagreements.count < 20 {
                        disagreements.append(Disagreement(body: body, isNDJSON: isNDJSON, fast: fastOutcome, general: generalOutcome))
                    }
                } else if fastOutcome.hasPrefix("ok") {
                    accepted += 1
                }
            }
            if iteration % progressEvery == 0 { progress(iteration) }
        }
        return (max(1, iterations), accepted, disagreements)
    }

    /// The measurements bit for bit, or the error; equal strings mean equal outcomes.
    private func outcome(_ decoder: IngestBodyDecoder, _ body: [UInt8], _ isNDJSON: Bool) -> String {
        do {
            let measurements = try decoder.decode(body, isNDJSON: isNDJSON)
            return "ok "
                + measurements.map { m in
                    "\(m.domain.utf8.map(String.init))|\(m.tag.utf8.map(String.init))|\(m.time)|\(m.values.map(\.bitPattern))"
                }.joined(separator: ";")
        } catch {
            return "refused \(error)"
        }
    }

    // MARK: - Generation

    public mutating func nextBody() -> [UInt8] {
        let count = 1 + Int(random.next() % 4)
        let messages = (0..<count).map { _ in message() }
        var text: String
        switch random.next() % 3 {
        case 0: text = messages[0]
        case 1: text = "[" + messages.joined(separator: pick([",", ", ", ",\n", " ,\t"])) + "]"
        default: text = messages.joined(separator: pick(["\n", "\r\n", "\n\n", "\n \n"])) + pick(["", "\n"])
        }
        var bytes = Array(text.utf8)
        // Half the bodies stay as generated, so the fast path's acceptances are compared too.
        if random.next() % 2 == 0 {
            for _ in 0...Int(random.next() % 3) { mutate(&bytes) }
        }
        return bytes
    }

    private mutating func message() -> String {
        var fields = [
            "\"time\":" + space() + (rarely() ? pick(Self.times) : String(random.next() >> 1)),
            "\"tag\":" + space() + (rarely() ? pick(Self.strings) : "\"tag-\(random.next() % 10_000)\""),
            "\"values\":" + space() + values(),
        ]
        if random.next() % 3 == 0 { fields.append("\"domain\":" + space() + (rarely() ? pick(Self.strings) : "\"d-1\"")) }
        if random.next() % 4 == 0 { fields.append("\"labels\":" + space() + labels()) }
        if random.next() % 20 == 0 { fields.append(pick(fields)) }  // a repeated key
        if random.next() % 20 == 0 { fields.append("\"" + pick(["x", "Time", "time ", "t\\u0069me"]) + "\":1") }
        fields.shuffle(using: &random)
        if random.next() % 20 == 0 { fields.removeLast() }
        return "{" + space() + fields.joined(separator: space() + "," + space()) + space() + "}"
    }

    /// A labels object: usually a few plain pairs (names may repeat), sometimes an edge case.
    private mutating func labels() -> String {
        if rarely() { return pick(Self.labelObjects) }
        let pairs = (0..<Int(random.next() % 4)).map { _ in
            "\"" + pick(["host", "dc", "role", "le", "Host"]) + "\":" + space() + "\"" + pick(["a", "b-1", "x y", "é", ""]) + "\""
        }
        return "{" + space() + pairs.joined(separator: space() + "," + space()) + space() + "}"
    }

    private mutating func values() -> String {
        let count = random.next() % 10 == 0 ? 0 : 1 + Int(random.next() % 4)
        let numbers = (0..<count).map { _ -> String in
            if rarely() { return pick(Self.numbers) }
            let value = Double(bitPattern: random.next())
            return value.isFinite ? "\(value)" : "1"
        }
        return "[" + space() + numbers.joined(separator: space() + "," + space()) + space() + "]"
    }

    /// True one time in ten: how often a field takes an edge case instead of a plain value.
    private mutating func rarely() -> Bool {
        random.next() % 10 == 0
    }

    private mutating func space() -> String {
        random.next() % 4 == 0 ? pick([" ", "\t", "\n", "\r\n", "  "]) : ""
    }

    private mutating func mutate(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else {
            bytes.append(pick(Self.alphabet))
            return
        }
        let at = Int(random.next() % UInt64(bytes.count))
        switch random.next() % 6 {
        case 0: bytes.insert(pick(Self.alphabet), at: at)
        case 1: bytes[at] = pick(Self.alphabet)
        case 2: bytes.removeSubrange(at..<min(bytes.count, at + 1 + Int(random.next() % 4)))
        case 3:
            let end = min(bytes.count, at + 1 + Int(random.next() % 12))
            bytes.insert(contentsOf: Array(bytes[at..<end]), at: end)  // a repeated slice: keys, values, objects
        case 4: bytes.insert(UInt8(ascii: "\n"), at: at)
        default: bytes.removeSubrange(at...)
        }
    }

    private mutating func pick<T>(_ choices: [T]) -> T {
        choices[Int(random.next() % UInt64(choices.count))]
    }

    private static let labelObjects = [
        "{}", "[]", "null", #"{"host":1}"#, #"{"host":"a","host":"b"}"#, #"{"ho\u0073t":"a"}"#, #"{"host":"a\"b"}"#,
        #"{"__name__":"x"}"#, #"{"":"a"}"#, #"{"9x":"a"}"#, #"{"host":"a",}"#, #"{"host" "a"}"#,
        "{" + (0..<40).map { #""k\#($0)":"v""# }.joined(separator: ",") + "}",
    ]

    private static let times = [
        "0", "1", "-1", "1795500000000000000", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "01", "1.0", "1e3", "-", "\"5\"", "null", "-0", "1E2", "",
    ]
    private static let strings = [
        "\"cpu\"", "\"tag-123\"", "\"Caf\u{E9}\"", "\"Cafe\u{301}\"", "\"\"", "\"a\\u0041\"", "\"\\\"\"", "\"x\ty\"", "\"温度\"",
        "\"a b\"", "1", "null", "\"d.e_f-g\"", "\"unterminated",
    ]
    private static let numbers = [
        "0", "-0", "1.5", "1e308", "1e309", "-1e-400", "5e-324", "1.", ".5", "01", "1e", "-", "NaN", "true", "\"1\"",
        "1E+2", "-2.5e-3", "123456789012345678901234567890", "0.1", "1e-7", "-0.0", "00", "+1", "0x10",
    ]
    private static let alphabet: [UInt8] = Array("{}[]:,\"\\-+.eE0123456789 \n\r\ttimeagvlusdonxu".utf8) + [0x00, 0x7F, 0xC3, 0xA9, 0xFF]
}
