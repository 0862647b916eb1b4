import ArgumentParser
import Foundation
import PostgresNIO
import SluiceModel
import SluiceRuntime
import SluiceStorage

struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Shows and sets how long each tier keeps data: raw rows, 1-minute and 1-hour rollups.",
        discussion: """
            A value set here is kept in the database and wins over the writers' SLUICE_RETENTION_RAW, _1M and _1H; \
            writers apply it at their next partition round (SLUICE_PARTITION_CHECK_S), or now with 'apply'. \
            Data goes a whole partition at a time (by default raw: a day, 1m: 7 days, 1h: 30 days; \
            SLUICE_PARTITION_PERIOD_RAW, _1M, _1H) once all of it is older than the retention. A coarser tier keeps at least as long as a finer one.
            """,
        subcommands: [Show.self, Set.self, Unset.self, Apply.self]
    )

    static func table(named tier: String) throws -> TimePartitionedTable {
        guard let table = TimePartitionedTable.named(tier) else {
            throw ValidationError("'\(tier)' is not a tier: use \(TimePartitionedTable.all.map(\.tier).joined(separator: ", "))")
        }
        return table
    }

    /// The stored retention over this process's environment (the writers' may differ: `show` says so).
    static func effective(_ connection: PostgresConnection, logger: Logger) async throws -> Retention {
        try await RetentionSettings.load(connection, fallback: try Retention.fromEnvironment(EnvironmentReader()), logger: logger)
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prints each tier's retention, where it comes from, and its partitions.")

        func run() async throws {
            try await AdminEnvironment.withDatabase { client, logger in
                try await client.withConnection { connection in
                    let stored = try await RetentionSettings.stored(connection, logger: logger)
                    let retention = try await RetentionCommand.effective(connection, logger: logger)
                    print("tier  keeps     set by                          partitions  period  oldest slot      newest slot")
                    for table in TimePartitionedTable.all {
                        let source = stored[table.tier] != nil ? "sluice-admin retention set" : "\(Retention.environmentVariable(table)) or default"
                        let slots = try await PartitionKeeper.partitions(of: table.table, connection: connection, logger: logger)
                            .filter { $0.low != nil && $0.high != nil }
                        // The newest slot's span: the period the writers make slots with now.
                        let period = slots.last.flatMap { slot in slot.high.flatMap { high in slot.low.map { high - $0 } } }
                        let start = { (slot: PartitionKeeper.Partition?) in
                            slot?.low.map { String(table.slotName(start: $0).dropFirst(table.table.count + 1)) } ?? "-"
                        }
                        let line = [
                            table.tier.padding(toLength: 5, withPad: " ", startingAt: 0),
                            Retention.format(retention.effective(table)).padding(toLength: 9, withPad: " ", startingAt: 0),
                            source.padding(toLength: 31, withPad: " ", startingAt: 0),
                            String(slots.count).padding(toLength: 11, withPad: " ", startingAt: 0),
                            (period.map(Retention.format) ?? "-").padding(toLength: 7, withPad: " ", startingAt: 0),
                            start(slots.first).padding(toLength: 16, withPad: " ", startingAt: 0),
                            start(slots.last),
                        ]
                        print(line.joined(separator: " "))
                    }
                }
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sets a tier's retention for every writer, for example: set raw 7d.")
        @Argument(help: "raw, 1m or 1h.") var tier: String
        @Argument(help: "A whole number with m, h, d or w (at least 1h), or 'forever'.") var period: String

        /// Refused before any database is reached.
        func validate() throws {
            _ = try RetentionCommand.table(named: tier)
            _ = try parsedPeriod()
        }

        func parsedPeriod() throws -> Int64? {
            do { return try Retention.parse(period) } catch { throw ValidationError(error.message) }
        }

        func run() async throws {
            let table = try RetentionCommand.table(named: tier)
            let parsed = try parsedPeriod()
            try await AdminEnvironment.withDatabase { client, logger in
                try await client.withConnection { connection in
                    try await RetentionSettings.store(table, period: parsed, connection: connection, logger: logger)
                    let retention = try await RetentionCommand.effective(connection, logger: logger)
                    print("\(table.tier) keeps \(Retention.format(retention.effective(table)))")
                    if retention.effective(table) != parsed {
                        print("(raised to what the tier below keeps: a coarser tier never keeps less)")
                    }
                }
            }
        }
    }

    struct Unset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Returns a tier to the writers' SLUICE_RETENTION_* (or the default).")
        @Argument(help: "raw, 1m or 1h.") var tier: String

        func validate() throws {
            _ = try RetentionCommand.table(named: tier)
        }

        func run() async throws {
            let table = try RetentionCommand.table(named: tier)
            try await AdminEnvironment.withDatabase { client, logger in
                try await client.withConnection { connection in
                    try await RetentionSettings.remove(table, connection: connection, logger: logger)
                }
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Makes partitions ahead and drops expired ones now, as the writers' next round would, and prints what it did."
        )

        func run() async throws {
            try await AdminEnvironment.withDatabase { client, logger in
                let retention = try await client.withConnection { try await RetentionCommand.effective($0, logger: logger) }
                let periods = try PartitionPeriods.fromEnvironment(EnvironmentReader())
                let reports = await PartitionKeeper(retention: retention, periods: periods).maintain(client, now: WallClock.nowNanoseconds(), logger: logger)
                for table in TimePartitionedTable.all {
                    guard let report = reports[table.tier] else {
                        throw AdminFailure("\(table.table): the round failed (another round holding its lock, or a long query); try again")
                    }
                    print(
                        "\(table.tier): created \(report.created.count), dropped \(report.dropped.count)\(report.dropped.isEmpty ? "" : " (\(report.dropped.joined(separator: ", ")))")"
                            + (report.held.isEmpty
                                ? ""
                                : "; kept past retention until the rollup refresher rebuilds minutes marked in them: \(report.held.joined(separator: ", "))")
                    )
                }
            }
        }
    }
}
