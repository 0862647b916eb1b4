// sluice-bench-decode: how long ingest takes to read a body, with the message scanner and with Foundation's
// JSONDecoder alone, on producer-like bodies. Prints µs per message; `swift run -c release sluice-bench-decode`.
import Foundation
import Ingest
import SluiceModel

/// Producer-like messages: a tag from a few thousand, ten values on a random walk written at full precision.
func messages(count: Int, seed: UInt64) -> [String] {
    var state = seed
    func next() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53)
    }
    var walk = (0..<10).map { _ in next() * 100 }
    let start: Int64 = 1_795_500_000_000_000_000
    return (0..<count).map { index in
        walk = walk.map { $0 + next() - 0.5 }
        let values = walk.map(\.description).joined(separator: ",")
        return #"{"time":\#(start + Int64(index) * 1_000_017),"tag":"tag-\#(String(format: "%05d", 1 + index * 37 % 5000))","values":[\#(values)]}"#
    }
}

struct Case {
    var name: String
    var body: [UInt8]
    var messages: Int
    var ndjson: Bool
}

let batch = messages(count: 100, seed: 1)
/// The same messages with labels, as the Prometheus-style agents' series carry them.
let labelled = batch.enumerated().map { index, message in
    String(message.dropLast()) + #","labels":{"host":"h-\#(index % 20)","dc":"eu-1","role":"db"}}"#
}
let cases = [
    Case(name: "array of 100", body: Array(("[" + batch.joined(separator: ",") + "]").utf8), messages: 100, ndjson: false),
    Case(name: "NDJSON of 100", body: Array(batch.joined(separator: "\n").utf8), messages: 100, ndjson: true),
    Case(name: "one message", body: Array(batch[0].utf8), messages: 1, ndjson: false),
    Case(name: "labelled, 100", body: Array(("[" + labelled.joined(separator: ",") + "]").utf8), messages: 100, ndjson: false),
]

/// Decodes `body` until 200,000 messages or 3 seconds, whichever comes first; returns µs per message.
func measure(_ decoder: IngestBodyDecoder, _ test: Case) -> Double {
    let clock = ContinuousClock()
    let limit = max(1, 200_000 / test.messages)
    var rounds = 0
    var decoded = 0
    let started = clock.now
    while rounds < limit, clock.now - started < .seconds(3) {
        decoded += (try? decoder.decode(test.body, isNDJSON: test.ndjson).count) ?? 0
        rounds += 1
    }
    precondition(decoded == rounds * test.messages, "\(test.name) did not decode")
    let elapsed = clock.now - started
    return elapsed.fractionalSeconds * 1e6 / Double(decoded)
}

print("body            scanner µs/msg  JSONDecoder µs/msg  speed-up")
for test in cases {
    _ = measure(IngestBodyDecoder(), test)  // warm up
    let fast = measure(IngestBodyDecoder(), test)
    let general = measure(IngestBodyDecoder(usesScanner: false), test)
    print(String(format: "%-15@ %14.2f  %18.2f  %7.1f×", test.name as NSString, fast, general, general / fast))
}
