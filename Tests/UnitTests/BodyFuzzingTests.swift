import BodyFuzzing
import Testing

/// A short, fixed-seed run of the differential fuzzer (`sluice-fuzz-body` runs the long one): the fast
/// scanner and JSONDecoder must read every body alike.
@Suite struct BodyFuzzingTests {
    @Test(arguments: [1, 2] as [UInt64])
    func theScannerAndJSONDecoderAgreeOnGeneratedAndMutatedBodies(seed: UInt64) {
        var fuzzer = BodyFuzzer(seed: seed)
        let result = fuzzer.run(iterations: 10_000)
        #expect(result.disagreements.isEmpty, "\(result.disagreements.map(\.description).joined(separator: "\n"))")
        // The generator must also reach the fast path's acceptances, or the comparison proves little.
        #expect(result.accepted > 1_500, "only \(result.accepted) readings were accepted")
    }
}
