import Metrics
import SluiceStorage

/// How the writer's rollups are kept: what share of points is folded in memory and how many rows it has
/// to read back, which is what rollups cost beyond the raw rows.
enum RollupMetrics {
    /// Points by how they reached the tiers: `in_order` (after the series' newest point), `placed` (a little
    /// out of order, put in place in the reorder buffer), `unseen` (behind the reorder buffer, the misses:
    /// their open minute is marked when it closes), `closed` (late into a closed minute: marked); and
    /// `stored`, of the placed, those that repeated a held point (found when they leave the buffer, and
    /// dropped: the first write of a time wins).
    static func points(_ path: String) -> Counter {
        Counter(label: "sluice_writer_rollup_points_total", dimensions: [("path", path)])
    }

    /// Ranges of minutes marked for the refresher, by reason (`RollupMarks.Reason`).
    static func marks(_ reason: String) -> Counter {
        Counter(label: "sluice_writer_rollup_marks_total", dimensions: [("reason", reason)])
    }

    static func count(_ marks: [RollupMarks.Mark]) {
        for reason in RollupMarks.Reason.allCases {
            let count = marks.count { $0.reason == reason }
            if count > 0 { Self.marks(reason.rawValue).increment(by: count) }
        }
    }

    /// Minutes the refresher rebuilt from the raw rows, raw rows it read, and hours it refolded: beside
    /// `rows_written{tier="1m"}` (the writer's own), the share of minutes the writer could not fold.
    static let refreshedMinutes = Counter(label: "sluice_writer_rollup_refreshed_minutes_total")
    static let refreshedHours = Counter(label: "sluice_writer_rollup_refreshed_hours_total")
    static let rowsRead = Counter(label: "sluice_writer_rollup_rows_read_total")
    /// Marks dropped unrebuilt because their raw rows had passed retention (each is logged): their tier rows
    /// miss what the marked points added. Above zero, the refresher fell a retention period behind.
    static let expiredMarks = Counter(label: "sluice_writer_rollup_marks_expired_total")
    /// Marks waiting, as the refresher last counted them when it had nothing to rebuild.
    static let pendingMarks = Gauge(label: "sluice_writer_rollup_marks_pending")
    /// Tier rows written, by tier.
    static func rowsWritten(_ tier: String) -> Counter {
        Counter(label: "sluice_writer_rollup_rows_written_total", dimensions: [("tier", tier)])
    }
}

/// Per-batch tallies, reported once per batch.
package struct RollupTally {
    package var inOrder = 0
    package var placed = 0
    package var stored = 0
    package var unseen = 0
    package var closed = 0

    package init() {}

    /// Every point counted once, by its path (`stored` is a share of `placed`).
    package var points: Int { inOrder + placed + unseen + closed }

    package func report() {
        for (path, count) in [("in_order", inOrder), ("placed", placed), ("stored", stored), ("unseen", unseen), ("closed", closed)] where count > 0 {
            RollupMetrics.points(path).increment(by: count)
        }
    }
}
