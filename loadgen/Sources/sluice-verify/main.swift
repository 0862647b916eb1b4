// sluice-verify: compares a producer ledger with what PostgreSQL holds (SLUICE_PG_* variables say where).
import ArgumentParser
import Foundation
import LoadGen
import Logging
import PostgresNIO
import SluiceRuntime
import SluiceStorage

@main
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-verify",
        abstract: "Counts lost and duplicated messages per tag: a producer's ledger against PostgreSQL."
    )

    @Option(help: "the producer's ledger") var ledger = "producer-ledger.json"
    @Option(help: "seconds to wait for the writer to catch up before judging") var wait: Double = 30

    mutating func run() async throws {
        let book = try Ledger.read(from: URL(fileURLWithPath: ledger))
        let settings = try PostgresSettings.fromEnvironment(EnvironmentReader())
        let logger = Logger(label: "sluice-verify")
        let client = settings.makeClient(backgroundLogger: logger)
        let waitLimit = Duration.milliseconds(Int64(wait * 1000))
        let report = try await withThrowingTaskGroup(of: LedgerVerifier.Report?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            let verifier = LedgerVerifier(client: client)
            let deadline = ContinuousClock.now + waitLimit
            var report = try await verifier.verify(book, logger: logger)
            while report.lost > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
                report = try await verifier.verify(book, logger: logger)
            }
            return report
        }
        print("[verify] tags \(report.tags), sent \(report.sent), stored \(report.stored), lost \(report.lost), duplicated \(report.duplicated)")
        for finding in report.findings.prefix(20) {
            print("[verify]   \(finding.tag): sent \(finding.sent), stored \(finding.stored)")
        }
        if !report.findings.isEmpty { throw ExitCode(1) }
    }
}
