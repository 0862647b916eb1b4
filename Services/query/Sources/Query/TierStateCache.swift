import Metrics
import SluiceModel
import SluiceStorage
import Synchronization

/// Tier rows kept between `/api` requests, so a dashboard polling a day of minute rows reads from
/// PostgreSQL only the rows that changed since it last asked: the packed read of 1,440 rows was two
/// thirds of such an answer (BENCHMARKS.md, "where a day's aggregate goes").
///
/// A kept row is used only while PostgreSQL lists it, in the request's own snapshot, at the version the
/// cache read: its `xmin` (the transaction that wrote that version) and `ctid` (where the version lies).
/// Whatever writes a tier row — the writer closing a minute, the refresher, `sluice-admin rollups
/// rebuild`, a preload — writes a new version with its own transaction's id, and a deleted row is not
/// listed, so the list says exactly which rows to read again; nothing has to tell the cache. Each row's
/// version is compared, not a span's count and newest `xmin`: transactions commit out of id order, and a
/// rebuild with an older id than the newest row could replace rows and leave both unchanged.
///
/// `xmin` is 32 bits, and PostgreSQL hands an id out again after 2³² transactions: a version could repeat
/// only if a row that old were replaced by the transaction with the same id and landed in the very same
/// slot of the same page. Rows are read again after `maximumAge` all the same, which bounds how long a
/// kept row can go unread.
public final class TierStateCache: Sendable {
    /// Which version of a row PostgreSQL holds: `xmin` and `ctid` (block and item), as listed.
    struct Version: Hashable, Sendable {
        var transaction: Int64
        var block: UInt32
        var item: UInt16
    }

    private struct Row {
        var version: Version
        var state: BucketState
        var read: ContinuousClock.Instant
    }

    private struct Key: Hashable {
        var tierStep: Int64
        var seriesID: Int64
    }

    private struct Series {
        var rows: [Int64: Row] = [:]
        var bytes = 0
        var lastUse: UInt64 = 0

        mutating func forget(_ bucket: Int64) {
            guard let row = rows.removeValue(forKey: bucket) else { return }
            bytes -= TierStateCache.bytes(of: row.state)
        }
    }

    private struct Contents {
        var series: [Key: Series] = [:]
        var bytes = 0
        var uses: UInt64 = 0
    }

    private let contents = Mutex(Contents())
    let maximumBytes: Int
    let maximumAge: Duration
    private let kept = Counter(label: "sluice_query_tier_cache_rows_total", dimensions: [("source", "cache")])
    private let read = Counter(label: "sluice_query_tier_cache_rows_total", dimensions: [("source", "postgres")])
    private let held = Gauge(label: "sluice_query_tier_cache_bytes")

    /// - Parameters:
    ///   - maximumBytes: memory the kept rows may take, about; past it the series used longest ago are forgotten.
    ///   - maximumAge: a row read longer ago is read again.
    public init(maximumBytes: Int, maximumAge: Duration = .seconds(3600)) {
        self.maximumBytes = maximumBytes
        self.maximumAge = maximumAge
    }

    /// What a kept row takes, about: measured with 200,000 rows of 1, 3 and 10 values kept as here (in
    /// dictionaries, each array its own allocation), 620–1,300 bytes a row.
    static func bytes(of state: BucketState) -> Int { 550 + 75 * state.counts.count }

    /// The kept states of the listed rows (nil where the cache lacks that version), in the list's order.
    /// Rows of the series it keeps in `span` that are not listed are gone from PostgreSQL, and forgotten.
    /// - Parameter listed: every row of the tier for the series in `span`, as PostgreSQL lists it now.
    func states(_ tier: RollupTier, seriesID: Int64, span: Range<Int64>, listed: [(bucket: Int64, version: Version)]) -> [BucketState?] {
        let now = ContinuousClock.now
        let key = Key(tierStep: tier.step, seriesID: seriesID)
        let (states, forgotten) = contents.withLock { contents -> ([BucketState?], Int) in
            contents.uses += 1
            guard var series = contents.series.removeValue(forKey: key) else { return (Array(repeating: nil, count: listed.count), 0) }
            series.lastUse = contents.uses
            let before = series.bytes
            var states: [BucketState?] = []
            states.reserveCapacity(listed.count)
            var current = Set<Int64>(minimumCapacity: listed.count)
            for (bucket, version) in listed {
                current.insert(bucket)
                guard let row = series.rows[bucket], row.version == version, now - row.read < maximumAge else {
                    series.forget(bucket)
                    states.append(nil)
                    continue
                }
                states.append(row.state)
            }
            if series.rows.count > current.count {
                for bucket in series.rows.keys where span.contains(bucket) && !current.contains(bucket) { series.forget(bucket) }
            }
            let forgotten = before - series.bytes
            contents.bytes -= forgotten
            contents.series[key] = series
            return (states, forgotten)
        }
        kept.increment(by: Int64(states.count { $0 != nil }))
        if forgotten > 0 { held.record(byteCount) }
        return states
    }

    /// Keeps rows just read, each at the version it was read at.
    func remember(_ tier: RollupTier, seriesID: Int64, rows: [(bucket: Int64, version: Version, state: BucketState)]) {
        guard !rows.isEmpty else { return }
        read.increment(by: Int64(rows.count))
        let now = ContinuousClock.now
        let key = Key(tierStep: tier.step, seriesID: seriesID)
        let bytes = contents.withLock { contents -> Int in
            contents.uses += 1
            var series = contents.series.removeValue(forKey: key) ?? Series()
            series.lastUse = contents.uses
            let before = series.bytes
            for row in rows {
                series.forget(row.bucket)
                series.rows[row.bucket] = Row(version: row.version, state: row.state, read: now)
                series.bytes += Self.bytes(of: row.state)
            }
            contents.bytes += series.bytes - before
            contents.series[key] = series
            if contents.bytes > maximumBytes { Self.forgetLeastRecentlyUsed(&contents, toAtMost: maximumBytes * 9 / 10) }
            return contents.bytes
        }
        held.record(bytes)
    }

    /// What the kept rows take now, about, over all series.
    var byteCount: Int { contents.withLock { $0.bytes } }

    /// Forgets whole series, the one used longest ago first, until at most `limit` bytes are kept: one sort
    /// per overflow, rather than bookkeeping on every use.
    private static func forgetLeastRecentlyUsed(_ contents: inout Contents, toAtMost limit: Int) {
        for (key, series) in contents.series.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
            guard contents.bytes > limit else { return }
            contents.series[key] = nil
            contents.bytes -= series.bytes
        }
    }
}
