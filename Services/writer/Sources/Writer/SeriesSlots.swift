/// Which slot of `RollupMemory.Table` holds each remembered series: looked up several times for every
/// series of every batch, so it is an open-addressed table with a multiplicative hash instead of a
/// `Dictionary`, whose seeded SipHash and separate key and value arrays were ~13 % of the fold's time
/// at 10,000 series (`sluice-bench-rollups`, `perf`). The ids are the database's own (a sequence, never a
/// producer's choice), so nobody can pick keys that collide on purpose. Entries are never removed one by
/// one: the table is cleared whole.
struct SeriesSlots: Sendable {
    private struct Entry {
        var id: Int64
        /// -1 while the entry is free.
        var slot: Int32
    }

    private var entries: ContiguousArray<Entry>
    /// 64 minus log2 of the capacity: the hash's top bits pick the entry.
    private var shift: UInt64
    private(set) var count = 0

    init() {
        entries = ContiguousArray(repeating: Entry(id: 0, slot: -1), count: 16)
        shift = 60
    }

    subscript(id: Int64) -> Int? {
        entries.withUnsafeBufferPointer { entries in
            let mask = entries.count - 1
            var index = start(of: id)
            while true {
                let entry = entries[index]
                if entry.slot < 0 { return nil }
                if entry.id == id { return Int(entry.slot) }
                index = (index + 1) & mask
            }
        }
    }

    /// Remembers `id` in `slot`; `id` must not be remembered yet.
    mutating func insert(_ id: Int64, slot: Int) {
        precondition(slot >= 0 && slot < Int(Int32.max), "a slot is an index into the table's arrays")
        // At most half full, so a probe usually stops within the cache line it starts in.
        if (count + 1) * 2 > entries.count { grow() }
        place(Entry(id: id, slot: Int32(slot)))
        count += 1
    }

    /// Fibonacci hashing: ids from a sequence spread evenly over the top bits.
    private func start(of id: Int64) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: id) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    private mutating func place(_ entry: Entry) {
        let mask = entries.count - 1
        var index = start(of: entry.id)
        while entries[index].slot >= 0 {
            precondition(entries[index].id != entry.id, "a remembered series is only forgotten with the whole table")
            index = (index + 1) & mask
        }
        entries[index] = entry
    }

    private mutating func grow() {
        let old = entries
        entries = ContiguousArray(repeating: Entry(id: 0, slot: -1), count: old.count * 2)
        shift -= 1
        for entry in old where entry.slot >= 0 { place(entry) }
    }
}
