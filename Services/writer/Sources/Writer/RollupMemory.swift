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
    /// What is known of a series when it is first remembered.
    package struct Series: Sendable {
        var minuteTail: Int64?
        var hourTail: Int64?
        /// The newest point seen (stored, held or folded).
        var newest: Int64
        /// The newest point folded, or on first sight the newest stored: a later point at or before it
        /// comes too late to be put in its place.
        var frontier: Int64
        /// Open minutes in this range are read back from the rows when they close: the writer did not
        /// see all their points, or could not place one exactly.
        var dirty: ClosedRange<Int64>?

        /// A series whose newest stored point is at `newest`, with nothing held.
        init(minuteTail: Int64?, hourTail: Int64?, newest: Int64, dirty: ClosedRange<Int64>?) {
            self.minuteTail = minuteTail
            self.hourTail = hourTail
            self.newest = newest
            frontier = newest
            self.dirty = dirty
        }

        /// A series this batch creates: nothing was stored before its first point, so its tiers start at
        /// that point's minute and hour (and no earlier hour is read back to be folded), and every point of
        /// the batch is new to it.
        package static func created(first time: Int64) -> Series {
            let (minute, hour) = (RollupTier.minute, RollupTier.hour)
            var series = Series(minuteTail: minute.bucket(of: time) - minute.step, hourTail: hour.bucket(of: time) - hour.step, newest: .min, dirty: nil)
            series.frontier = .min
            return series
        }
    }

    /// Where a series stands: read for every point a batch brings, so kept apart from the open minutes, in
    /// a flat array of small entries found by slot with no reference to follow.
    struct Position: Sendable {
        var newest: Int64
        var frontier: Int64
        var minuteTail: Int64?
        var hourTail: Int64?
        /// The oldest of the series' held points (`.max` when none): a minute before it can close without
        /// waiting for a pass.
        var oldestHeld: Int64 = .max
    }

    /// A series' minutes being folded, touched only when points leave `HeldPoints` and when minutes close.
    struct Folding: Sendable {
        /// Open minutes built from the points folded, in increasing time: usually one, two while the
        /// previous minute waits out `RollupTier.closingGrace`.
        var open: [OpenMinute] = []
        var dirty: ClosedRange<Int64>?

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

    /// What a batch's fold leaves to write in its transaction.
    package struct Writes: Sendable {
        package var closed: [RollupFold.Bucket] = []
        package var marks: [RollupMarks.Mark] = []
        package var hourRanges: [RollupFold.Range] = []

        package init() {}
    }

    /// Every remembered series, each in one slot of flat arrays found through one hash lookup, so a
    /// series is mutated where it lies (a dictionary of structs moves each value out and back on every
    /// mutation), and the points held back for all of them. Series are never removed one by one: the
    /// table is cleared whole.
    package struct Table: Sendable {
        private var slots = SeriesSlots()
        private(set) var ids: ContiguousArray<Int64> = []
        var positions: ContiguousArray<Position> = []
        var foldings: ContiguousArray<Folding> = []
        var held = HeldPoints()
        /// When the next pass is due (see `fold`): the newest point held since the last pass, the newest
        /// held before it, and how many points the last pass kept.
        var newestSincePass: Int64 = .min
        var newestAtPass: Int64 = .min
        var keptAtPass = 0

        package init() {}

        package var count: Int { ids.count }

        package func contains(_ id: Int64) -> Bool { slots[id] != nil }

        func slot(of id: Int64) -> Int? { slots[id] }

        /// Adds a series not remembered yet.
        package mutating func remember(_ series: Series, as id: Int64) {
            slots.insert(id, slot: ids.count)
            ids.append(id)
            positions.append(Position(newest: series.newest, frontier: series.frontier, minuteTail: series.minuteTail, hourTail: series.hourTail))
            foldings.append(Folding(dirty: series.dirty))
        }

        /// Remembers each series of the batch that is not remembered yet and that `created` says the batch
        /// created, as `Series.created` at its first point.
        package mutating func rememberCreated(in added: [Int64: [RollupWriter.Point]], where created: (Int64) -> Bool) {
            for (id, points) in added where slots[id] == nil && created(id) {
                if let first = points.first { remember(.created(first: first.time), as: id) }
            }
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
