import ArgumentParser
import Foundation
import SluiceStorage
import Synchronization

struct Rollups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Maintains the rollup tiers.",
        subcommands: [Rebuild.self]
    )

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Rebuilds the 1-minute and 1-hour tiers from the raw rows, after rows were loaded into measurements by SQL (the writer keeps tiers only for what it stores). Safe while the services run; takes minutes for tens of millions of rows."
        )

        func run() async throws {
            try await AdminEnvironment.withDatabase { client, logger in
                let started = ContinuousClock.now
                let lastReport = Mutex(started)
                let written = try await RollupRebuild.rebuild(client, logger: logger) { done, total, rows in
                    // Progress on standard error, at most every 2 s, and at the end.
                    let now = ContinuousClock.now
                    let due = lastReport.withLock { last in
                        guard done == total || now - last >= .seconds(2) else { return false }
                        last = now
                        return true
                    }
                    guard due else { return }
                    FileHandle.standardError.write(Data("series \(done) of \(total), \(rows) rows read\n".utf8))
                }
                for (tier, rows) in written {
                    print("\(tier.table): \(rows) rows")
                }
                print("rebuilt in \(ContinuousClock.now - started)")
            }
        }
    }
}
