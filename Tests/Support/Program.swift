import Foundation

/// Programs a test runs to their end (an agent's client, a browser, `sluice-admin`), read the one way that
/// cannot hang: both output streams are drained at once on threads of their own, so a program that fills
/// one pipe while the test waits on the other does not stall, and the cooperative threads the test needs
/// meanwhile are never the ones blocked reading. A program that outlasts its time is stopped and says so.
public enum Program {
    public struct Outcome: Sendable {
        public var status: Int32
        public var output: String
        public var errors: String
        /// It outlasted its time and was stopped.
        public var timedOut: Bool

        public var succeeded: Bool { !timedOut && status == 0 }
    }

    /// Runs `executable` with `arguments`, `environment` added to this process's own and `input` on its
    /// standard input (none: an empty one). Past `limit` it is killed (SIGKILL: children inherit the test
    /// process's ignored SIGTERM, so a polite stop would only add a wait).
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:], input: Data = Data(), within limit: Duration
    ) async throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let (standardInput, standardOutput, standardError) = (Pipe(), Pipe(), Pipe())
        process.standardInput = input.isEmpty ? FileHandle.nullDevice : standardInput
        process.standardOutput = standardOutput
        process.standardError = standardError
        try process.run()
        let (writing, reading, readingErrors) = (standardInput.fileHandleForWriting, standardOutput.fileHandleForReading, standardError.fileHandleForReading)
        async let written: Void = onThread {
            if !input.isEmpty { writing.write(input) }
            try? writing.close()
        }
        async let output = onThread { reading.readDataToEndOfFile() }
        async let errors = onThread { readingErrors.readDataToEndOfFile() }
        let timedOut = await process.endOrKill(within: limit)
        _ = await written
        return Outcome(
            status: process.terminationStatus,
            output: String(decoding: await output, as: UTF8.self),
            errors: String(decoding: await errors, as: UTF8.self),
            timedOut: timedOut
        )
    }

    /// A program by its path.
    public static func run(
        _ path: String, _ arguments: [String], environment: [String: String] = [:], input: Data = Data(), within limit: Duration
    ) async throws -> Outcome {
        try await run(URL(fileURLWithPath: path), arguments, environment: environment, input: input, within: limit)
    }

    /// Blocking work on a thread of its own rather than one of the cooperative pool's few.
    private static func onThread<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }
}

extension Process {
    /// Waits for the process to end by itself, and kills it (SIGKILL) past `limit`.
    /// - Returns: whether it had to be killed.
    func endOrKill(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard isRunning else { return false }
        kill(processIdentifier, SIGKILL)
        waitUntilExit()
        return true
    }
}
