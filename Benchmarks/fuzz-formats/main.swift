// sluice-fuzz-formats: fuzzing of the agent formats' parsers (InfluxDB line protocol, Prometheus remote
// write, Graphite lines).
// `swift run -c release sluice-fuzz-formats [ITERATIONS [SEED]]` (default 1,000,000 inputs each, seed 1);
// prints progress, the figures, and any failure; exits 1 when there is one.
import FormatFuzzing
import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard let iterations = Int(arguments.first ?? "1000000"), iterations > 0, let seed = UInt64(arguments.dropFirst().first ?? "1") else {
    FileHandle.standardError.write(Data("usage: sluice-fuzz-formats [ITERATIONS [SEED]]\n".utf8))
    exit(2)
}
func seconds(since start: ContinuousClock.Instant) -> Double {
    let duration = ContinuousClock.now - start
    return Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}
var failed = false
for kind in [LineProtocolFuzzer.self, RemoteWriteFuzzer.self, GraphiteFuzzer.self] as [any FormatFuzzer.Type] {
    let started = ContinuousClock.now
    var fuzzer = kind.init(seed: seed)
    let run = fuzzer.run(iterations: iterations) { done in
        print("[fuzz] \(kind.inputs): \(done), \(Int(seconds(since: started))) s")
    }
    print(
        "[fuzz] \(kind.inputs), seed \(seed): \(run.checked) checked as written and \(run.checked) mutated "
            + "(\(run.acceptedMutations) of them accepted) in \(String(format: "%.1f", seconds(since: started))) s; \(run.failures.count) failures")
    for failure in run.failures { print("[fuzz] \(failure)") }
    failed = failed || !run.failures.isEmpty
}
exit(failed ? 1 : 0)
