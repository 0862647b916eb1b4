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
                arguments: [
                    "--url", stack.ingestURL, "--profile", "constant:2000", "--duration", "5", "--tags", "200",
                    "--batch", "50", "--ledger", ledger, "--progress", "1",
                ]
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

    /// With keys required, the producer signs every request (key from the environment) and the client
    /// sends a bearer token (key from flags) to the query service and the bridge; without a key the
    /// producer's messages are refused.
    @Test func loadGeneratorsAuthenticateWhenKeysAreRequired() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, withBridge: true, requireKeys: true)
            let key = try #require(stack.adminKey)
            let settings = database.settings
            let ledger = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString).json").path
            let producer = try ChildProcess(
                "sluice-producer", settings: settings, environment: ["SLUICE_KEY_ID": key.keyID, "SLUICE_KEY_SECRET": key.secret],
                arguments: [
                    "--url", stack.ingestURL, "--profile", "constant:1000", "--duration", "4", "--tags", "50", "--batch", "20", "--ledger", ledger, "--sign",
                ]
            )
            try await Task.sleep(for: .seconds(1))
            let client = try ChildProcess(
                "sluice-client", settings: settings, environment: [:],
                arguments: [
                    "--url", stack.queryURL, "--bridge-url", stack.bridgeURL, "--target", "both", "--clients", "2", "--duration", "2",
                    "--top-tags", "10", "--max-p99-ms", "5000", "--max-lag-ms", "10000", "--max-bridge-p99-ms", "5000",
                    "--key-id", key.keyID, "--secret", key.secret,
                ]
            )
            #expect(await producer.waitForExit(within: .seconds(60)) == 0, "\(producer.output)")
            #expect(
                producer.output.split(separator: "\n").first { $0.contains("messages due") }?.contains("rejected 0, failed 0") == true, "\(producer.output)")
            #expect(await client.waitForExit(within: .seconds(60)) == 0, "\(client.output)")
            // Statuses print as `200×4`: a bare "401" would also match a latency figure (data lag p99 401.3 ms).
            #expect(!client.output.contains("401×") && !client.output.contains("403×"), "\(client.output)")
            let verify = try ChildProcess("sluice-verify", settings: settings, environment: database.serviceEnvironment, arguments: ["--ledger", ledger])
            #expect(await verify.waitForExit(within: .seconds(60)) == 0, "\(verify.output)")

            let anonymous = try ChildProcess(
                "sluice-producer", settings: settings, environment: [:],
                arguments: [
                    "--url", stack.ingestURL, "--profile", "constant:100", "--duration", "1", "--tags", "5", "--batch", "10", "--ledger", ledger + ".anonymous",
                ]
            )
            #expect(await anonymous.waitForExit(within: .seconds(30)) != 0, "\(anonymous.output)")
            #expect(anonymous.output.contains("401×"), "\(anonymous.output)")
            await stack.stop()
        }
    }
}
