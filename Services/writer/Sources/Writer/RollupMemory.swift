import SluiceModel
import SluiceStorage
import Synchronization

/// What the writer remembers of each series' rollups between batches, so that a batch in order costs no
/// reads: the newest closed minute and hour, the newest stored point, and the open minutes built from
/// the points it saw.
///
/// Valid only while every store of these series goes through this writer: it is forgotten on every
/// rebalance, after any failed store and when a store is abandoned, and rebuilt from PostgreSQL as
/// series come back. A store takes the entries it needs out (so they are mutated in place, not copied)
/// and gives them back once its transaction has committed; what a store that started before the last
/// `forget()` gives back is dropped.
package final class RollupMemory: Sendable {
    package struct Series: Sendable {
        /// How many of the newest stored points are kept, so that a point arriving slightly out of order
        /// (concurrent producers interleave) is placed between its neighbours in memory instead of having
        /// its minute read back from the rows.
        static let recentLimit = 64

        var minuteTail: Int64?
        var hourTail: Int64?
        /// The newest stored points in increasing time: every stored point at or after the first of them
        /// is here. Never empty; its last is the series' newest point, after which a point is new.
        private(set) var recent: [RollupWriter.Point]
        /// Open minutes built from the points seen.
        var open: [Int64: BucketState] = [:]
        /// Open minutes in this range are read back from the rows when they close: the writer did not
        /// see all their points, or could not place one exactly.
        var dirty: ClosedRange<Int64>?

        init(minuteTail: Int64?, hourTail: Int64?, newest: RollupWriter.Point, dirty: ClosedRange<Int64>?) {
            self.minuteTail = minuteTail
            self.hourTail = hourTail
            recent = [newest]
            self.dirty = dirty
        }

        var newest: RollupWriter.Point {
            recent[recent.count - 1]
        }

        /// A series this batch created: its first point starts its first open minute (when folding).
        package static func created(first: RollupWriter.Point, folds: Bool) -> Series {
            var series = Series(minuteTail: nil, hourTail: nil, newest: first, dirty: nil)
            if folds { series.open[RollupTier.minute.bucket(of: first.time)] = BucketState(time: first.time, values: first.values) }
            return series
        }

        func isDirty(_ bucket: Int64) -> Bool { dirty?.contains(bucket) ?? false }

        mutating func markDirty(from bucket: Int64, through last: Int64) {
            let upper = max(last, bucket)
            dirty = dirty.map { min($0.lowerBound, bucket)...max($0.upperBound, upper) } ?? bucket...upper
            open = open.filter { $0.key < bucket }
        }

        /// Where a point at `time` belongs among the recent points.
        enum Place {
            /// Stored already (the first write of a time wins).
            case stored
            /// New, between these two stored points.
            case between(RollupWriter.Point, RollupWriter.Point, index: Int)
            /// Older than every recent point: its neighbours are unknown.
            case unknown
        }

        func place(_ time: Int64) -> Place {
            var low = 0, high = recent.count
            while low < high {
                let middle = (low + high) / 2
                if recent[middle].time < time { low = middle + 1 } else { high = middle }
            }
            if low < recent.count && recent[low].time == time { return .stored }
            guard low > 0, low < recent.count else { return .unknown }
            return .between(recent[low - 1], recent[low], index: low)
        }

        /// Records a stored point; `index` from `place` for an older one, nil for the newest.
        mutating func remember(_ point: RollupWriter.Point, at index: Int? = nil) {
            if let index { recent.insert(point, at: index) } else { recent.append(point) }
            // Trimmed in blocks, so appending costs O(1) on average.
            if recent.count >= 2 * Self.recentLimit { recent.removeFirst(recent.count - Self.recentLimit) }
        }
    }

    /// Entries taken out by a store, and the generation they belong to.
    package struct Taken: Sendable {
        package var entries: [Int64: Series]
        var generation: UInt64
    }

    private struct State {
        var series: [Int64: Series] = [:]
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Past this many series the memory is cleared rather than grown (they are reloaded as needed).
    let capacity: Int

    package init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    package func take(_ ids: some Sequence<Int64>) -> Taken {
        state.withLock { state in
            var found: [Int64: Series] = [:]
            for id in ids { if let entry = state.series.removeValue(forKey: id) { found[id] = entry } }
            return Taken(entries: found, generation: state.generation)
        }
    }

    package func giveBack(_ taken: Taken) {
        state.withLock { state in
            guard taken.generation == state.generation else { return }
            if state.series.count + taken.entries.count > capacity { state.series.removeAll(keepingCapacity: true) }
            state.series.merge(taken.entries) { _, new in new }
        }
    }

    func forget() {
        state.withLock { state in
            state.series.removeAll()
            state.generation &+= 1
        }
    }
}
