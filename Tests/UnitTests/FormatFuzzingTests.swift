import FormatFuzzing
import Testing

/// Short, fixed-seed runs of the format fuzzers (`sluice-fuzz-formats` runs the long ones).
@Suite struct FormatFuzzingTests {
    enum Format: CaseIterable, Sendable {
        case lineProtocol, remoteWrite, graphite

        var fuzzer: any FormatFuzzer.Type {
            switch self {
            case .lineProtocol: LineProtocolFuzzer.self
            case .remoteWrite: RemoteWriteFuzzer.self
            case .graphite: GraphiteFuzzer.self
            }
        }

        var iterations: Int { self == .remoteWrite ? 5_000 : 10_000 }
        /// Mutated inputs a run must at least accept: one whose mutations are all refused proves little.
        var acceptedAtLeast: Int { self == .remoteWrite ? 200 : 1_000 }
    }

    @Test(arguments: Format.allCases, [1, 2] as [UInt64])
    func parsersKeepTheirPropertiesOnGeneratedAndMutatedInputs(format: Format, seed: UInt64) {
        var fuzzer = format.fuzzer.init(seed: seed)
        let run = fuzzer.run(iterations: format.iterations)
        #expect(run.failures.isEmpty, "\(run.failures.prefix(3).map(\.description).joined(separator: "\n"))")
        #expect(run.acceptedMutations > format.acceptedAtLeast, "only \(run.acceptedMutations) mutated inputs were accepted")
    }
}
