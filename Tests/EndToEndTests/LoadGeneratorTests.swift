import Foundation
import SluiceTestSupport
import Testing

/// The producer, client and verifier against the real pipeline. Thresholds here are loose on purpose:
/// this proves the mechanics (ledger, verification, gating by exit status); speed is the benchmark's job.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LoadGeneratorTests {
    @Test func producerLedgerVerifiesAndClientGatesOnItsThresholds() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database)
            let settings = database.settings
            let ledger = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString).json").path
            let producer = try ChildProcess(
                "sluice-producer", settings: settings, environment: [:],
                arguments: ["--url", stack.ingestURL, "--profile", "constant:2000", "--duration", "5", "--tags", "200",
                            "--batch", "50", "--ledger", ledger, "--progress", "1"]
            )
            try await Task.sleep(for: .seconds(1))
            let client = try ChildProcess(
                "sluice-client", settings: settings, environment: [:],
                arguments: ["--url", stack.queryURL, "--clients", "3", "--duration", "3", "--max-p99-ms", "5000", "--max-lag-ms", "10000"]
            )
            let producerStatus = await producer.waitForExit(within: .seconds(60))
            let clientStatus = await client.waitForExit(within: .seconds(60))
            #expect(producerStatus == 0, "\(producer.output)")
            #expect(producer.output.contains("[producer] 1s target 2000 msg/s"), "progress lines: \(producer.output)")
            #expect(clientStatus == 0, "\(client.output)")
            #expect(client.output.contains("PASS"))

            let verify = try ChildProcess("sluice-verify", settings: settings, environment: database.serviceEnvironment, arguments: ["--ledger", ledger])
            #expect(await verify.waitForExit(within: .seconds(60)) == 0, "\(verify.output)")
            #expect(verify.output.contains("lost 0, duplicated 0"), "\(verify.output)")
            let accepted = producer.output.split(separator: "\n").first { $0.contains("messages due") }
            #expect(accepted?.contains("rejected 0, failed 0") == true, "\(producer.output)")

            // A threshold nobody can meet must fail the run: the client is a gate, not a printer.
            let strict = try ChildProcess(
                "sluice-client", settings: settings, environment: [:],
                arguments: ["--url", stack.queryURL, "--clients", "1", "--duration", "1", "--max-p99-ms", "0"]
            )
            #expect(await strict.waitForExit(within: .seconds(30)) != 0, "\(strict.output)")
            #expect(strict.output.contains("FAIL"))
            await stack.stop()
        }
    }
}
