import Metrics
import SluiceModel
import Synchronization

/// The raw minutes an `/api` aggregate reads past the tiers — a series' newest, not yet closed minute,
/// and marked ones — folded, and kept between requests with the version of every row folded in. For a
/// series taking 100 points a second that minute is thousands of rows, and reading and folding them was
/// most of an answer's time once the tier rows were kept (`TierStateCache`).
///
/// A request lists the minute's rows with their versions (`RowVersion`) in its own snapshot: the same
/// list as kept, and the kept fold is the answer; the kept list followed by later rows (the usual case:
/// points arriving), and only the later rows are read and folded on; anything else (a late point in the
/// middle, a row rewritten or removed), and the minute is read again whole.
public final class RawMinuteCache: Sendable {
    /// A minute folded: the rows it holds, in time order, and their fold.
    struct Minute: Sendable {
        /// Keyed by time.
        var rows: [RowListing]
        var block: StateBlock
        var read: ContinuousClock.Instant
    }

    private struct Key: Hashable {
        var seriesID: Int64
        var minute: Int64
    }

    private struct Contents {
        var minutes: [Key: (minute: Minute, lastUse: UInt64)] = [:]
        var bytes = 0
        var uses: UInt64 = 0
    }

    private let contents = Mutex(Contents())
    let maximumBytes: Int
    let maximumAge: Duration
    private let fromCache = Counter(label: "sluice_query_raw_minute_cache_rows_total", dimensions: [("source", "cache")])
    private let fromPostgres = Counter(label: "sluice_query_raw_minute_cache_rows_total", dimensions: [("source", "postgres")])

    /// - Parameters:
    ///   - maximumBytes: memory the kept minutes may take, about; past it those used longest ago are forgotten.
    ///   - maximumAge: a minute read longer ago is read again whole.
    public init(maximumBytes: Int, maximumAge: Duration = .seconds(3600)) {
        self.maximumBytes = maximumBytes
        self.maximumAge = maximumAge
    }

    /// What a kept minute takes, about: its listing, and its fold as a tier row would (`TierStateCache`).
    static func bytes(of minute: Minute) -> Int {
        MemoryLayout<RowListing>.stride * minute.rows.count + TierStateCache.bytes(of: minute.block.state)
    }

    /// The kept minute of `seriesID` starting at `start`, if it is young enough to use.
    func minute(seriesID: Int64, start: Int64) -> Minute? {
        let now = ContinuousClock.now
        return contents.withLock { contents -> Minute? in
            let key = Key(seriesID: seriesID, minute: start)
            guard let kept = contents.minutes[key]?.minute, now - kept.read < maximumAge else { return nil }
            contents.uses += 1
            contents.minutes[key]?.lastUse = contents.uses
            return kept
        }
    }

    /// Counts what a request took from kept minutes and what it read.
    func count(kept: Int, read: Int) {
        if kept > 0 { fromCache.increment(by: Int64(kept)) }
        if read > 0 { fromPostgres.increment(by: Int64(read)) }
    }

    func remember(seriesID: Int64, start: Int64, _ minute: Minute) {
        contents.withLock { contents in
            contents.uses += 1
            let key = Key(seriesID: seriesID, minute: start)
            if let old = contents.minutes.updateValue((minute, contents.uses), forKey: key) { contents.bytes -= Self.bytes(of: old.minute) }
            contents.bytes += Self.bytes(of: minute)
            guard contents.bytes > maximumBytes else { return }
            contents.minutes.forgetLeastRecentlyUsed(
                total: &contents.bytes, toAtMost: maximumBytes * 9 / 10, lastUse: \.lastUse, bytes: { Self.bytes(of: $0.minute) })
        }
    }

    /// What the kept minutes take now, about.
    var byteCount: Int { contents.withLock { $0.bytes } }
}
