/// What a format fuzzer does, so that one loop runs each (the long runs of `sluice-fuzz-formats` and the
/// short fixed-seed ones in the unit tests): an input generated from the seed is checked as written and
/// once mutated, as many times as asked.
public protocol FormatFuzzer {
    /// Names the fuzzer's inputs in progress lines: "line protocol bodies".
    static var inputs: String { get }
    init(seed: UInt64)
    /// Checks one generated input and one mutation of it, recording what breaks a property.
    mutating func checkOne(into run: inout FuzzRun)
}

extension FormatFuzzer {
    /// Checks `iterations` inputs; `progress` is called every `progressEvery` with the count so far.
    public mutating func run(iterations: Int, progressEvery: Int = 100_000, progress: (Int) -> Void = { _ in }) -> FuzzRun {
        var run = FuzzRun()
        for iteration in 1...max(1, iterations) {
            checkOne(into: &run)
            run.checked += 1
            if iteration % progressEvery == 0 { progress(iteration) }
        }
        return run
    }
}

/// What a fuzzing run found.
public struct FuzzRun: Sendable {
    /// An input that broke a property.
    public struct Failure: Sendable, CustomStringConvertible {
        public var input: String
        public var detail: String
        public var description: String { "\(detail): \(input)" }
    }

    public internal(set) var checked = 0
    /// Mutated inputs the parser accepted: a run whose mutations are all refused proves little.
    public internal(set) var acceptedMutations = 0
    /// The first twenty.
    public private(set) var failures: [Failure] = []

    /// - Parameter input: how to show the input, made only for the failures kept.
    mutating func record(_ detail: String, input: @autoclosure () -> String) {
        if failures.count < 20 { failures.append(Failure(input: input(), detail: detail)) }
    }
}
