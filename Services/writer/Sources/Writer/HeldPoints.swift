import CPrefetch

/// Every series' newest points, held back a moment before they are folded, so that points arriving a
/// little out of order (concurrent producers interleave) are put in their place and every minute is
/// folded in time order, exactly as from the rows.
///
/// One buffer for the whole table, appended to in arrival order: holding a point writes to the buffer's
/// tail, which is warm, instead of to a buffer of each series' own, which at 10,000 series is cold on
/// almost every visit (a batch of 8,000 points touches ~5,000 series, 1.6 points each). Points leave in
/// passes, each series' points together and in time order, so a series' open minute is visited once a
/// pass, not once a batch.
struct HeldPoints: Sendable {
    fileprivate struct Entry {
        var time: Int64
        var slot: Int32
        var width: Int32
        /// Where the point's values start in `values`.
        var start: Int
    }

    /// In arrival order.
    private var entries: ContiguousArray<Entry> = []
    private var values: ContiguousArray<Double> = []
    /// The buffers a pass copies the kept points into, emptied with their capacity kept: a pass swaps them
    /// with the ones above, so steady passes allocate nothing (fresh megabytes would page-fault in).
    private var spareEntries: ContiguousArray<Entry> = []
    private var spareValues: ContiguousArray<Double> = []

    var count: Int { entries.count }

    /// Holds a point of the series in `slot`; its values are copied, no reference to the batch's array kept.
    mutating func append(time: Int64, slot: Int, values point: [Double]) {
        entries.append(Entry(time: time, slot: Int32(slot), width: Int32(point.count), start: values.count))
        // Through a buffer pointer: borrowed, with no retain and release of the batch's array.
        point.withUnsafeBufferPointer { values.append(contentsOf: $0) }
    }

    /// Gives the slot and time of every held point, in arrival order.
    func visitAll(_ body: (_ slot: Int, _ time: Int64) -> Void) {
        for entry in entries { body(Int(entry.slot), entry.time) }
    }

    /// One series' points leaving the buffer, in increasing time (equal times in arrival order), read where
    /// they lie in the buffer: their values were asked for while the series before was being folded.
    struct Run {
        private let entries: UnsafeBufferPointer<Entry>
        private let values: UnsafeBufferPointer<Double>

        fileprivate init(entries: UnsafeBufferPointer<Entry>, values: UnsafeBufferPointer<Double>) {
            self.entries = entries
            self.values = values
        }

        var count: Int { entries.count }

        func time(at index: Int) -> Int64 { entries[index].time }

        func values(at index: Int) -> UnsafeBufferPointer<Double> {
            let entry = entries[index]
            return UnsafeBufferPointer(rebasing: values[entry.start..<entry.start + Int(entry.width)])
        }
    }

    /// Takes out every point `leaves` accepts and gives them to `body` a series at a time, in increasing
    /// slot; keeps the others in arrival order.
    /// - Parameters:
    ///   - slots: one more than the largest slot held.
    ///   - leaves: whether the point at this time of this slot leaves now.
    mutating func release(slots: Int, where leaves: (_ slot: Int, _ time: Int64) -> Bool, _ body: (_ slot: Int, _ run: Run) -> Void) {
        guard !entries.isEmpty else { return }
        // A counting sort by slot: counts, then where each slot's run starts, then the runs filled in
        // arrival order.
        var starts = ContiguousArray(repeating: 0, count: slots + 1)
        var leaving = 0
        for entry in entries where leaves(Int(entry.slot), entry.time) {
            starts[Int(entry.slot) + 1] += 1
            leaving += 1
        }
        guard leaving > 0 else { return }
        for slot in 0..<slots { starts[slot + 1] += starts[slot] }
        var sorted = ContiguousArray(repeating: Entry(time: 0, slot: 0, width: 0, start: 0), count: leaving)
        var keptEntries = spareEntries
        var keptValues = spareValues
        spareEntries = []
        spareValues = []
        keptEntries.reserveCapacity(entries.count)
        keptValues.reserveCapacity(values.count)
        values.withUnsafeBufferPointer { values in
            sorted.withUnsafeMutableBufferPointer { sorted in
                var next = starts
                for entry in entries {
                    let slot = Int(entry.slot)
                    if leaves(slot, entry.time) {
                        sorted[next[slot]] = entry
                        next[slot] += 1
                    } else {
                        keptEntries.append(Entry(time: entry.time, slot: entry.slot, width: entry.width, start: keptValues.count))
                        keptValues.append(contentsOf: UnsafeBufferPointer(rebasing: values[entry.start..<entry.start + Int(entry.width)]))
                    }
                }
                // The points of a run lie anywhere in a buffer of several megabytes: the next run's values are
                // asked for before this one is folded, so their misses overlap the folding.
                let leavingSlots = (0..<slots).filter { starts[$0 + 1] > starts[$0] }
                func prefetch(_ slot: Int) {
                    for entry in sorted[starts[slot]..<starts[slot + 1]] {
                        let address = values.baseAddress.map { $0 + entry.start }
                        sluice_prefetch(address)
                        sluice_prefetch(address.map { $0 + Int(entry.width) - 1 })
                    }
                }
                if let first = leavingSlots.first { prefetch(first) }
                for (index, slot) in leavingSlots.enumerated() {
                    if index + 1 < leavingSlots.count { prefetch(leavingSlots[index + 1]) }
                    let run = UnsafeMutableBufferPointer(rebasing: sorted[starts[slot]..<starts[slot + 1]])
                    Self.sortByTime(run)
                    body(slot, Run(entries: UnsafeBufferPointer(run), values: values))
                }
            }
        }
        swap(&entries, &keptEntries)
        swap(&values, &keptValues)
        keptEntries.removeAll(keepingCapacity: true)
        keptValues.removeAll(keepingCapacity: true)
        spareEntries = keptEntries
        spareValues = keptValues
    }

    /// Puts a run in increasing time, equal times in arrival order (a point's values start later in the
    /// buffer the later it arrived). Points mostly arrive in time order, so the common case is one pass
    /// that finds nothing to do.
    private static func sortByTime(_ run: UnsafeMutableBufferPointer<Entry>) {
        var ordered = true
        for index in run.indices.dropFirst() where run[index].time < run[index - 1].time {
            ordered = false
            break
        }
        guard !ordered else { return }
        var run = run
        run.sort { ($0.time, $0.start) < ($1.time, $1.start) }
    }
}
