import SluiceRuntime

/// How much time each tier's partitions (slots) span: nanoseconds per tier name ("raw", "1m", "1h").
///
/// Read by the writer and `sluice-admin retention apply` from `SLUICE_PARTITION_PERIOD_RAW`, `_1M` and
/// `_1H` over `TimePartitionedTable`'s defaults (a day, 7 days, 30 days). A change applies to slots made
/// from then on: the slots already made keep their bounds, and the first new one ends at the next multiple
/// of the new period, so writers that disagree, or a period changed on a running system, cost slot shapes,
/// never a failed round. Shorter periods make retention finer (a slot goes once wholly past it) and cost a
/// table per slot (times `SLUICE_PG_PARTITIONS` for raw), so a day suits most systems; periods of seconds
/// are for tests that cross boundaries quickly.
public struct PartitionPeriods: Sendable, Equatable {
    public var widths: [String: Int64]

    public init(widths: [String: Int64]) {
        self.widths = widths
    }

    public static let defaults = PartitionPeriods(widths: Dictionary(uniqueKeysWithValues: TimePartitionedTable.all.map { ($0.tier, $0.width) }))

    /// The shortest period: one second.
    public static let minimum: Int64 = 1_000_000_000

    /// Every table, finest tier first, with its slots this wide.
    public var tables: [TimePartitionedTable] {
        TimePartitionedTable.all.map { $0.withWidth(widths[$0.tier] ?? $0.width) }
    }

    /// The narrowest slot of any table: partition rounds must come more often than this, so the slots made
    /// ahead never run out between them.
    public var narrowest: Int64 {
        tables.map(\.width).min() ?? TimePartitionedTable.raw.width
    }

    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> PartitionPeriods {
        var periods = defaults
        for (tier, width) in try TimePartitionedTable.settings(from: environment, variable: environmentVariable, read: parse) {
            periods.widths[tier] = width
        }
        return periods
    }

    /// `1d`, `6h`, `30s`: a whole number with s, m, h, d or w, from one second to 366 days.
    static func parse(_ text: String) throws(RetentionError) -> Int64 {
        guard let width = DurationText.nanoseconds(text), width >= minimum, width <= 366 * 86_400_000_000_000 else {
            throw RetentionError("'\(text)' is not a partition period: give a whole number with s, m, h, d or w, from 1s to 366d (for example 1d)")
        }
        return width
    }

    public static func environmentVariable(_ table: TimePartitionedTable) -> String {
        "SLUICE_PARTITION_PERIOD_\(table.tier.uppercased())"
    }
}
