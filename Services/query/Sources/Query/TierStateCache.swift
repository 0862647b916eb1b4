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
    private struct Kept {
        var version: RowVersion
        /// When it was read, for `maximumAge`.
        var read: ContinuousClock.Instant
        var block: StateBlock
    }

    private struct Key: Hashable {
        var tierStep: Int64
        var seriesID: Int64
    }

    private struct Series {
        /// In bucket order, so a request's list (in bucket order too) is matched in one pass.
        var rows: [Kept] = []
        var bytes = 0
        var lastUse: UInt64 = 0
    }

    private struct Contents {
        var series: [Key: Series] = [:]
        var bytes = 0
        var uses: UInt64 = 0
    }

    private let contents = Mutex(Contents())
    let maximumBytes: Int
    let maximumAge: Duration
    private let fromCache = Counter(label: "sluice_query_tier_cache_rows_total", dimensions: [("source", "cache")])
    private let fromPostgres = Counter(label: "sluice_query_tier_cache_rows_total", dimensions: [("source", "postgres")])
    private let held = Gauge(label: "sluice_query_tier_cache_bytes")

    /// - Parameters:
    ///   - maximumBytes: memory the kept rows may take, about; past it the series used longest ago are forgotten.
    ///   - maximumAge: a row read longer ago is read again.
    public init(maximumBytes: Int, maximumAge: Duration = .seconds(3600)) {
        self.maximumBytes = maximumBytes
        self.maximumAge = maximumAge
    }

    /// What a kept row takes, about: 200,000 states of 1, 3 and 10 values, each array its own allocation,
    /// kept in dictionaries took 620–1,300 bytes a row; kept as here (an object each, in arrays) a little less.
    static func bytes(of state: BucketState) -> Int { 550 + 75 * state.counts.count }

    /// The kept rows for the listed ones (nil where the cache lacks that version), in the list's order.
    /// Rows of the series it keeps in `span` that are not listed are gone from PostgreSQL, and forgotten.
    /// - Parameter listed: every row of the tier for the series in `span`, as PostgreSQL lists it now, in
    ///   bucket order.
    func rows(_ tier: RollupTier, seriesID: Int64, span: Range<Int64>, listed: [RowListing]) -> [StateBlock?] {
        let now = ContinuousClock.now
        let key = Key(tierStep: tier.step, seriesID: seriesID)
        let (found, forgotten) = contents.withLock { contents -> ([StateBlock?], Int) in
            contents.uses += 1
            guard var series = contents.series.removeValue(forKey: key) else { return (Array(repeating: nil, count: listed.count), 0) }
            series.lastUse = contents.uses
            var found: [StateBlock?] = []
            found.reserveCapacity(listed.count)
            // Kept rows in the span that are not listed, or listed at another version, or too old.
            var stale: [Int] = []
            var next = series.rows.partitioningIndex { $0.block.start >= span.lowerBound }
            for listing in listed {
                let bucket = listing.key
                while next < series.rows.count, series.rows[next].block.start < bucket {
                    stale.append(next)
                    next += 1
                }
                guard next < series.rows.count, series.rows[next].block.start == bucket else {
                    found.append(nil)
                    continue
                }
                let row = series.rows[next]
                if row.version == listing.version, now - row.read < maximumAge {
                    found.append(row.block)
                } else {
                    found.append(nil)
                    stale.append(next)
                }
                next += 1
            }
            while next < series.rows.count, series.rows[next].block.start < span.upperBound {
                stale.append(next)
                next += 1
            }
            let before = series.bytes
            if !stale.isEmpty {
                for index in stale { series.bytes -= Self.bytes(of: series.rows[index].block.state) }
                series.rows.removeSubranges(RangeSet(stale, within: series.rows))
            }
            contents.bytes -= before - series.bytes
            contents.series[key] = series
            return (found, before - series.bytes)
        }
        fromCache.increment(by: Int64(found.count { $0 != nil }))
        if forgotten > 0 { held.record(byteCount) }
        return found
    }

    /// Where the newest row it keeps of the series' `tier` before `end` ends, or nil: where a window's
    /// next finer source is expected to start (`WindowListing`).
    func newestEnd(_ tier: RollupTier, seriesID: Int64, before end: Int64) -> Int64? {
        contents.withLock { contents -> Int64? in
            guard let rows = contents.series[Key(tierStep: tier.step, seriesID: seriesID)]?.rows else { return nil }
            let after = rows.partitioningIndex { $0.block.start >= end }
            return after > 0 ? rows[after - 1].block.start + tier.step : nil
        }
    }

    /// Keeps rows just read (at `read`), each at the version it was read at.
    func remember(_ tier: RollupTier, seriesID: Int64, rows: [(version: RowVersion, block: StateBlock)], read: ContinuousClock.Instant) {
        guard !rows.isEmpty else { return }
        fromPostgres.increment(by: Int64(rows.count))
        let key = Key(tierStep: tier.step, seriesID: seriesID)
        let bytes = contents.withLock { contents -> Int in
            contents.uses += 1
            var series = contents.series.removeValue(forKey: key) ?? Series()
            series.lastUse = contents.uses
            let before = series.bytes
            let replaced = Set(rows.map(\.block.start))
            var merged: [Kept] = []
            merged.reserveCapacity(series.rows.count + rows.count)
            for row in series.rows {
                if replaced.contains(row.block.start) { series.bytes -= Self.bytes(of: row.block.state) } else { merged.append(row) }
            }
            for row in rows {
                series.bytes += Self.bytes(of: row.block.state)
                merged.append(Kept(version: row.version, read: read, block: row.block))
            }
            merged.sort { $0.block.start < $1.block.start }
            series.rows = merged
            contents.bytes += series.bytes - before
            contents.series[key] = series
            if contents.bytes > maximumBytes {
                contents.series.forgetLeastRecentlyUsed(total: &contents.bytes, toAtMost: maximumBytes * 9 / 10, lastUse: \.lastUse, bytes: \.bytes)
            }
            return contents.bytes
        }
        held.record(bytes)
    }

    /// What the kept rows take now, about, over all series.
    var byteCount: Int { contents.withLock { $0.bytes } }
}
