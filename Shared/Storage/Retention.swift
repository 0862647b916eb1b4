import Foundation
import Logging
import PostgresNIO
import SluiceRuntime

/// How long each tier keeps its data: nanoseconds per tier name ("raw", "1m", "1h"), absent for forever.
///
/// Where a value comes from, strongest first: `sluice-admin retention set` (a row in `sluice_settings`,
/// so every writer agrees), the writer's `SLUICE_RETENTION_*` variables, `TimePartitionedTable`'s default.
/// A coarser tier always keeps at least as long as a finer one: the query reads a tier only where it is
/// complete, and minutes late data reopens are recomputed from raw rows.
public struct Retention: Sendable, Equatable {
    public var periods: [String: Int64]

    public init(periods: [String: Int64]) {
        self.periods = periods
    }

    public static let defaults = Retention(
        periods: Dictionary(uniqueKeysWithValues: TimePartitionedTable.all.compactMap { table in table.defaultRetention.map { (table.tier, $0) } })
    )

    /// The shortest a tier may keep: the writer reads back the last minutes' rows to close them.
    public static let minimum: Int64 = 3_600_000_000_000

    /// What each tier actually keeps: its own period, raised to the finer tier's.
    public func effective(_ table: TimePartitionedTable) -> Int64? {
        var kept: Int64 = 0
        for finer in TimePartitionedTable.all {
            guard let own = periods[finer.tier] else { return nil }  // a finer tier kept forever
            kept = max(kept, own)
            if finer.tier == table.tier { break }
        }
        return kept
    }

    /// The oldest time `table` keeps at `now`, or nil when it keeps everything.
    public func cutoff(_ table: TimePartitionedTable, now: Int64) -> Int64? {
        effective(table).map { now - $0 }
    }

    /// Reads `SLUICE_RETENTION_RAW`, `SLUICE_RETENTION_1M`, `SLUICE_RETENTION_1H` over the defaults.
    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> Retention {
        var retention = defaults
        for (tier, period) in try TimePartitionedTable.settings(from: environment, variable: environmentVariable, read: parse) {
            retention.periods[tier] = period
        }
        return retention
    }

    public static func environmentVariable(_ table: TimePartitionedTable) -> String {
        "SLUICE_RETENTION_\(table.tier.uppercased())"
    }

    /// `7d`, `36h`, `90m`, `2w`, or `forever` (nil).
    public static func parse(_ text: String) throws(RetentionError) -> Int64? {
        if text.trimmingCharacters(in: .whitespaces).lowercased() == "forever" { return nil }
        guard let period = DurationText.nanoseconds(text) else {
            throw RetentionError("'\(text)' is not a retention: give a whole number with m, h, d or w (for example 7d), or 'forever'")
        }
        guard period >= minimum else { throw RetentionError("'\(text)' is shorter than the least a tier keeps, 1h") }
        return period
    }

    /// The shortest of `parse`'s forms that says `period`.
    public static func format(_ period: Int64?) -> String {
        period.map(DurationText.format) ?? "forever"
    }
}

public struct RetentionError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Retention set with `sluice-admin retention`, kept in `sluice_settings` as `retention_<tier>`.
public enum RetentionSettings {
    static func settingName(_ table: TimePartitionedTable) -> String { "retention_\(table.tier)" }

    /// What is stored, per tier name ("forever" stored is nil in the inner optional).
    public static func stored(_ connection: PostgresConnection, logger: Logger) async throws -> [String: Int64?] {
        var stored: [String: Int64?] = [:]
        let rows = try await connection.query("select name, value from sluice_settings where name like 'retention\\_%'", logger: logger)
        for try await (name, value) in rows.decode((String, String).self) {
            guard let table = TimePartitionedTable.all.first(where: { settingName($0) == name }) else { continue }
            do {
                stored[table.tier] = .some(try Retention.parse(value))
            } catch {
                logger.warning("ignoring a stored retention that does not parse", metadata: ["setting": "\(name)", "value": "\(value)"])
            }
        }
        return stored
    }

    /// `fallback` (the environment's) overlaid with what is stored.
    public static func load(_ connection: PostgresConnection, fallback: Retention, logger: Logger) async throws -> Retention {
        var retention = fallback
        for (tier, period) in try await stored(connection, logger: logger) {
            retention.periods[tier] = period
        }
        return retention
    }

    /// Stores `period` for `table` (nil: forever); `remove` returns the tier to the environment's value.
    public static func store(_ table: TimePartitionedTable, period: Int64?, connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            insert into sluice_settings (name, value) values (\(settingName(table)), \(Retention.format(period)))
            on conflict (name) do update set value = excluded.value
            """,
            logger: logger
        )
    }

    public static func remove(_ table: TimePartitionedTable, connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("delete from sluice_settings where name = \(settingName(table))", logger: logger)
    }
}
