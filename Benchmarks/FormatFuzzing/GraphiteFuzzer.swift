import SluiceFormats
import SluiceModel

/// Fuzzing of Graphite's line reading: random valid lines (path, tags, value, timestamp, written here)
/// must read back as the measurement they describe; mutated lines must be read or refused without
/// trapping, and what is read must be a measurement Sluice accepts. A seed makes a run repeatable.
public struct GraphiteFuzzer: FormatFuzzer {
    public static let inputs = "Graphite lines"

    private var random: SeededGenerator

    public init(seed: UInt64) {
        random = SeededGenerator(seed: seed)
    }

    public mutating func checkOne(into run: inout FuzzRun) {
        let (line, expected) = randomLine()
        switch Graphite.measurement(line: Substring(line), domain: "fuzz", now: 42) {
        case .success(let measurement) where measurement == expected: break
        case .success(let measurement):
            run.record("read \(measurement), wrote \(expected)", input: line.debugDescription)
        case .failure(let problem):
            run.record("refused: \(problem)", input: line.debugDescription)
        }
        let mutated = String(decoding: random.mutate(Array(line.utf8), alphabet: Self.mutationBytes), as: UTF8.self)
        if case .success(let measurement) = Graphite.measurement(line: Substring(mutated), domain: "fuzz", now: 42) {
            run.acceptedMutations += 1
            if MeasurementLimits.problem(with: measurement) != nil {
                run.record("read an unacceptable measurement \(measurement)", input: mutated.debugDescription)
            }
        }
    }

    private static let pathParts = ["collectd", "web-1", "cpu-0", "cpu-idle", "memory", "a_b", "x:y", "日本"]
    private static let mutationBytes: [UInt8] = Array(" \t;=.-+eE0123456789{}\r,".utf8) + [0x00, 0x7F, 0xC3, 0xFF]

    private mutating func randomLine() -> (String, Measurement) {
        let path = (0..<Int.random(in: 1...4, using: &random)).map { _ in Self.pathParts.randomElement(using: &random) ?? "a" }.joined(separator: ".")
        var labels: [String: String] = [:]
        var line = path
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            let key = ["host", "dc", "role"].randomElement(using: &random) ?? "host"
            guard labels[key] == nil else { continue }
            let value = "v\(Int.random(in: 0...99, using: &random))"
            labels[key] = value
            line += ";\(key)=\(value)"
        }
        let value = Double(Int.random(in: -1_000_000...1_000_000, using: &random)) / 64
        let seconds = Int64.random(in: 0...4_000_000_000, using: &random)
        let fraction = Int64.random(in: 0...999, using: &random)
        line += "\(Bool.random(using: &random) ? " " : "\t")\(value) \(seconds).\(String(fraction).leftPadded(to: 3))"
        let time = seconds * 1_000_000_000 + fraction * 1_000_000
        return (line, Measurement(domain: "fuzz", tag: SeriesName(name: path, labels: labels).canonical, time: time, values: [value]))
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
