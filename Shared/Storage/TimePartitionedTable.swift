import Foundation
import SluiceRuntime

/// A table split by time into partitions that are dropped whole when their data passes its retention.
///
/// Each table is range-partitioned on its time column into slots of `width` (aligned to multiples of
/// `width` since the epoch), with two catch-alls so that every time has a partition and no insert can
/// fail: `<table>_before` below the oldest slot and `<table>_after` above the newest. `measurements`'
/// slots are each hash-partitioned by series, as the whole table was before time partitions; ranges on
/// the outside keep plans ordered by time and let a whole day go with one `drop table`
/// (scripts/bench-partitions measures the layouts).
public struct TimePartitionedTable: Sendable, Equatable {
    /// The tier's name in settings, metrics and `sluice-admin retention`: "raw", "1m", "1h".
    public var tier: String
    public var table: String
    public var column: String
    /// Nanoseconds per slot.
    public var width: Int64
    /// Each slot is hash-partitioned by `series_id` into `measurement_partitions` (from `sluice_settings`).
    public var hashed: Bool
    /// Kept this long unless configured otherwise; nil: forever.
    public var defaultRetention: Int64?

    static let day: Int64 = 86_400_000_000_000

    public static let raw = TimePartitionedTable(
        tier: "raw", table: "measurements", column: "ts", width: day, hashed: true, defaultRetention: 7 * day
    )
    public static let minute = TimePartitionedTable(
        tier: RollupTier.minute.name, table: RollupTier.minute.table, column: "bucket", width: 7 * day, hashed: false,
        defaultRetention: 90 * day
    )
    public static let hour = TimePartitionedTable(
        tier: RollupTier.hour.name, table: RollupTier.hour.table, column: "bucket", width: 30 * day, hashed: false,
        defaultRetention: nil
    )
    /// Finest first: a tier never keeps less than the one below it (the query reads a tier only where it
    /// is complete, and a tier is rebuilt from the one below).
    public static let all = [raw, minute, hour]

    public static func named(_ tier: String) -> TimePartitionedTable? {
        all.first { $0.tier == tier }
    }

    /// The start of the slot holding `time`.
    public func slotStart(of time: Int64) -> Int64 {
        let remainder = time % width
        return remainder < 0 ? time - remainder - width : time - remainder
    }

    /// Slots covering `low..<high` end to end, each ending at the next multiple of `width` (or at `high`):
    /// bounds made under another width are met with one short slot, never an overlap.
    func slots(from low: Int64, to high: Int64) -> [(low: Int64, high: Int64)] {
        var slots: [(low: Int64, high: Int64)] = []
        var start = low
        while start < high {
            let end = min(slotStart(of: start) + width, high)
            slots.append((start, end))
            start = end
        }
        return slots
    }

    /// The tiers whose per-tier variable (`variable(table)`, such as `SLUICE_RETENTION_RAW`) is set, each
    /// with its text as `read` reads it; text `read` refuses is a `ConfigurationError` naming the variable.
    static func settings<Value>(
        from environment: EnvironmentReader, variable: (TimePartitionedTable) -> String, read: (String) throws(RetentionError) -> Value
    ) throws(ConfigurationError) -> [(tier: String, value: Value)] {
        var found: [(tier: String, value: Value)] = []
        for table in all {
            let name = variable(table)
            let text = environment.string(name, default: "")
            guard !text.isEmpty else { continue }
            do throws(RetentionError) {
                found.append((table.tier, try read(text)))
            } catch {
                throw ConfigurationError(variable: name, reason: error.message)
            }
        }
        return found
    }

    /// This table with slots of `width` nanoseconds (the writer's `SLUICE_PARTITION_PERIOD_*`).
    public func withWidth(_ width: Int64) -> TimePartitionedTable {
        var table = self
        table.width = width
        return table
    }

    /// `measurements_20261126` for a slot starting at midnight UTC, `measurements_20261126_143000` for one
    /// starting within the day (periods shorter than a day): the table and the slot's start, so names sort
    /// by time.
    public func slotName(start: Int64) -> String {
        let remainder = start % Self.day
        guard remainder != 0 else { return "\(table)_\(Self.utcDate(nanoseconds: start))" }
        let seconds = (remainder < 0 ? remainder + Self.day : remainder) / 1_000_000_000
        let time = [seconds / 3600, seconds / 60 % 60, seconds % 60].map { $0 < 10 ? "0\($0)" : "\($0)" }.joined()
        return "\(table)_\(Self.utcDate(nanoseconds: start))_\(time)"
    }

    /// Matches `slotName`'s names for this table and nothing else (not the hash partitions inside a slot).
    var slotNamePattern: String { "^\(table)_[0-9]{8}(_[0-9]{6})?$" }

    public var beforeName: String { "\(table)_before" }
    public var afterName: String { "\(table)_after" }

    public static func utcDate(nanoseconds: Int64) -> String {
        let seconds = nanoseconds / 1_000_000_000 - (nanoseconds % 1_000_000_000 < 0 ? 1 : 0)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        let (year, month, day) = (parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        return String(format: "%04d%02d%02d", year, month, day)
    }
}
