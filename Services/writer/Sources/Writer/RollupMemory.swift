import SluiceModel
import SluiceStorage
import Synchronization

/// What the writer remembers of each series' rollups between batches, so that a batch in order costs no
/// reads: the newest closed minute and hour, the newest stored point, and the open minutes built from
/// the points it saw.
///
/// Valid only while every store of these series goes through this writer: it is forgotten on every
/// rebalance, after any failed store and when a store is abandoned, and rebuilt from PostgreSQL as
/// series come back. Stores run one at a time, so a store takes the whole table out (so it is mutated in
/// place, with no per-series moves) and gives it back once its transaction has committed; what a store
/// that started before the last `forget()` gives back is dropped. A store abandoned on its deadline may
/// still hold the table when the next one starts; the abandon forgets first, so the next store starts
/// from an empty table, as it would anyway.
package final class RollupMemory: Sendable {
    package struct Series: Sendable {
        /// How long a point is held back behind the series' newest before it is folded: the reordering
        /// of concurrent POSTs. Shorter than `RollupTier.closingGrace`, so a minute's points are folded
        /// before it closes.
        static let reorderWindow: Int64 = 2_000_000_000
        /// At most this many points are held (a fast series holds its window in fewer than this).
        static let heldLimit = 128

        var minuteTail: Int64?
        var hourTail: Int64?
        /// Points after `frontier`, not folded yet.
        var held: ReorderBuffer
        /// The newest point folded, or on first sight the newest stored: a later point at or before it
        /// that is not held comes too late to be put in its place.
        var frontier: Int64
        /// Open minutes built from the points folded, in increasing time: usually one, two while the
        /// previous minute waits out `RollupTier.closingGrace`.
        var open: [OpenMinute] = []
        /// Open minutes in this range are read back from the rows when they close: the writer did not
        /// see all their points, or could not place one exactly.
        var dirty: ClosedRange<Int64>?

        /// A series whose newest stored point is `newest`, with nothing held.
        init(minuteTail: Int64?, hourTail: Int64?, newest: RollupWriter.Point, dirty: ClosedRange<Int64>?) {
            self.minuteTail = minuteTail
            self.hourTail = hourTail
            held = ReorderBuffer(width: newest.values.count)
            frontier = newest.time
            self.dirty = dirty
        }

        /// A series this batch created: nothing was stored or folded before its first point, so its tiers
        /// start at its first point's minute and hour (and no earlier hour is read back to be folded).
        package static func created(first: RollupWriter.Point) -> Series {
            let (minute, hour) = (RollupTier.minute, RollupTier.hour)
            var series = Series(
                minuteTail: minute.bucket(of: first.time) - minute.step, hourTail: hour.bucket(of: first.time) - hour.step, newest: first, dirty: nil
            )
            series.frontier = .min
            series.held.append(first)
            return series
        }

        var newestTime: Int64 { held.newestTime ?? frontier }

        func isDirty(_ bucket: Int64) -> Bool { dirty?.contains(bucket) ?? false }

        mutating func markDirty(from bucket: Int64, through last: Int64) {
            let upper = max(last, bucket)
            dirty = dirty.map { min($0.lowerBound, bucket)...max($0.upperBound, upper) } ?? bucket...upper
            open.removeAll { $0.bucket >= bucket }
        }
    }

    /// A minute being folded.
    struct OpenMinute: Sendable {
        var bucket: Int64
        var state: BucketAccumulator

        init(bucket: Int64, time: Int64, values: UnsafeBufferPointer<Double>) {
            self.bucket = bucket
            state = BucketAccumulator(time: time, values: values)
        }
    }

    /// Every remembered series, each in one slot of a flat array found through one hash lookup, so a
    /// series is mutated where it lies (a dictionary of structs moves each value out and back on every
    /// mutation). Series are never removed one by one: the table is cleared whole.
    package struct Table: Sendable {
        private var slots: [Int64: Int] = [:]
        private var entries: ContiguousArray<Series> = []

        package var count: Int { entries.count }

        package func slot(of id: Int64) -> Int? { slots[id] }

        /// Adds a series, or replaces what was remembered of it.
        package mutating func remember(_ series: Series, as id: Int64) {
            if let slot = slots[id] {
                entries[slot] = series
            } else {
                slots[id] = entries.count
                entries.append(series)
            }
        }

        package subscript(slot slot: Int) -> Series {
            get { entries[slot] }
            _modify { yield &entries[slot] }
        }
    }

    /// The table taken out by a store, and the generation it belongs to.
    package struct Taken: Sendable {
        package var table: Table
        var generation: UInt64
    }

    private struct State {
        /// Nil while a store holds the table.
        var table: Table? = Table()
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Past this many series the memory is cleared rather than grown (they are reloaded as needed).
    let capacity: Int

    package init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    /// Takes the whole table out; empty when another store still holds it (only an abandoned one can).
    package func take() -> Taken {
        state.withLock { state in
            defer { state.table = nil }
            return Taken(table: state.table ?? Table(), generation: state.generation)
        }
    }

    package func giveBack(_ taken: Taken) {
        state.withLock { state in
            guard taken.generation == state.generation else { return }
            state.table = taken.table.count > capacity ? Table() : taken.table
        }
    }

    func forget() {
        state.withLock { state in
            state.table = Table()
            state.generation &+= 1
        }
    }
}
