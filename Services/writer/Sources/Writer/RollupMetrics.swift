import Metrics

/// How the writer's rollups are kept: what share of points is folded in memory and how many rows it has
/// to read back, which is what rollups cost beyond the raw rows.
enum RollupMetrics {
    /// Points by how they reached the tiers: `in_order` (after the series' newest point), `placed` (a little
    /// out of order, between neighbours held in memory), `stored` (seen before: nothing to do), `read_back`
    /// (their open minute will be rebuilt from the rows), `closed` (late into a closed minute: recomputed).
    static func points(_ path: String) -> Counter {
        Counter(label: "sluice_writer_rollup_points_total", dimensions: [("path", path)])
    }

    /// Raw rows read back to build or rebuild tier buckets.
    static let rowsRead = Counter(label: "sluice_writer_rollup_rows_read_total")
    /// Tier rows written, by tier.
    static func rowsWritten(_ tier: String) -> Counter {
        Counter(label: "sluice_writer_rollup_rows_written_total", dimensions: [("tier", tier)])
    }
}

/// Per-batch tallies, reported once per batch.
struct RollupTally {
    var inOrder = 0
    var placed = 0
    var stored = 0
    var readBack = 0
    var closed = 0
    var rowsRead = 0

    func report() {
        for (path, count) in [("in_order", inOrder), ("placed", placed), ("stored", stored), ("read_back", readBack), ("closed", closed)] where count > 0 {
            RollupMetrics.points(path).increment(by: count)
        }
        if rowsRead > 0 { RollupMetrics.rowsRead.increment(by: rowsRead) }
    }
}
