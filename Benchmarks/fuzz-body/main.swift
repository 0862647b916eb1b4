// sluice-fuzz-body: differential fuzzing of ingest's body reading, the message scanner against JSONDecoder.
// `swift run -c release sluice-fuzz-body [ITERATIONS [SEED]]` (default 1,000,000 bodies, seed 1); prints
// progress, the figures, and any disagreement; exits 1 when there is one.
import BodyFuzzing
import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard let iterations = Int(arguments.first ?? "1000000"), iterations > 0, let seed = UInt64(arguments.dropFirst().first ?? "1") else {
    FileHandle.standardError.write(Data("usage: sluice-fuzz-body [ITERATIONS [SEED]]\n".utf8))
    exit(2)
}
let started = ContinuousClock.now
var fuzzer = BodyFuzzer(seed: seed)
let result = fuzzer.run(iterations: iterations) { done in
    print("[fuzz] \(done) bodies, \(Int((ContinuousClock.now - started).components.seconds)) s")
}
let seconds = Double((ContinuousClock.now - started).components.seconds) + Double((ContinuousClock.now - started).components.attoseconds) * 1e-18
print(
    "[fuzz] seed \(seed): \(result.checked) bodies × 2 layouts in \(String(format: "%.1f", seconds)) s; "
        + "\(result.accepted) readings accepted by both, \(result.disagreements.count) disagreements")
for disagreement in result.disagreements { print("[fuzz] \(disagreement)") }
exit(result.disagreements.isEmpty ? 0 : 1)
