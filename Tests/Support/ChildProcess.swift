import Foundation

/// A Sluice executable started for a test, with its output kept in a log file for failure reports.
public final class ChildProcess: @unchecked Sendable {
    public let name: String
    public let logFile: URL
    private let process = Process()

    /// Starts `executable` from the test bin folder with `environment` added to this process's own.
    public convenience init(_ executable: String, settings: TestSettings, environment: [String: String], arguments: [String] = []) throws {
        try self.init(path: settings.binDirectory.appendingPathComponent(executable), environment: environment, arguments: arguments)
    }

    /// Starts any program (an agent such as Prometheus) the same way.
    public init(path: URL, environment: [String: String] = [:], arguments: [String] = []) throws {
        let executable = path.lastPathComponent
        name = executable
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(executable)-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: logFile.path])
        }
        let handle = try FileHandle(forWritingTo: logFile)
        process.executableURL = path
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Sends SIGTERM and waits for the exit.
    /// - Returns: the exit status (0 after a graceful shutdown).
    @discardableResult
    public func terminate(within limit: Duration = .seconds(20)) async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(pid, SIGTERM)
        return await waitForExit(within: limit)
    }

    /// Sends SIGKILL: the crash a graceful shutdown must not be needed for.
    public func killHard() async {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        _ = await waitForExit(within: .seconds(10))
    }

    /// Waits for the process to end by itself (SIGKILL past `limit`).
    /// - Returns: its exit status, or -9 when it had to be killed.
    public func waitForExit(within limit: Duration) async -> Int32 {
        await process.endOrKill(within: limit) ? -9 : process.terminationStatus
    }

    /// Everything the process wrote so far.
    public var output: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// The last lines the process wrote, for a failure message.
    public func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
