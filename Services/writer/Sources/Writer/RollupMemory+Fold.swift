import CPrefetch
import SluiceModel
import SluiceStorage

/// The writer's rollup work that reads and writes nothing: holding a batch's points, folding the points
/// that leave the reorder buffer into their series' open minutes, and closing the minutes and hours the
/// series have moved past. `RollupWriter` does the reads and writes around it; `sluice-bench-rollups`
/// times it alone.
extension RollupMemory.Table {
    /// How long a point is held back behind its series' newest before it is folded: the reordering of
    /// concurrent POSTs. Shorter than `RollupTier.closingGrace`, so a minute's points are all folded by
    /// the pass that closes it.
    static let reorderWindow: Int64 = 2_000_000_000
    /// A pass is due when at least this many points are held beyond twice what the last pass kept.
    static let passMinimum = 1024
    /// How many series ahead of its visit a batch asks for a series' position.
    static let prefetchDistance = 4

    private func prefetchPosition(of slot: Int) {
        positions.withUnsafeBufferPointer { positions in
            let address = UnsafeRawPointer(positions.baseAddress.map { $0 + slot })
            sluice_prefetch(address)
            sluice_prefetch(address.map { $0 + MemoryLayout<RollupMemory.Position>.size - 1 })
        }
    }

    /// Takes a batch's points of remembered series, each series' in increasing time with one per time.
    /// A point after the series' newest folded one is held (in order or not); one for a closed minute is
    /// marked `late`; one at or behind the newest folded point, in an open minute, leaves its minutes to be
    /// marked `unseen` when they close. When a pass is due, points a reorder window behind their series'
    /// newest are folded and the minutes and hours passed are closed, into `writes`; a series that passed
    /// a minute holding none of its points closes it at once.
    ///
    /// A pass is due once about another reorder window of points has arrived since the last one — the
    /// held points doubled, or the newest held point moved on twice the window — so a series' open
    /// minute is visited once per window, not once per batch. With `folds` false nothing is held, folded
    /// or closed, and only the `late` marks are made.
    package mutating func fold(_ added: [Int64: [RollupWriter.Point]], folds: Bool, tally: inout RollupTally, writes: inout RollupMemory.Writes) {
        let minute = RollupTier.minute
        // Slots first, in a loop whose lookups do not wait on each other; then each series' position is
        // asked for a few series ahead of its visit: at 10,000 series both are cache misses.
        var visits: [(slot: Int, id: Int64, points: [RollupWriter.Point])] = []
        visits.reserveCapacity(added.count)
        for (id, points) in added {
            if let slot = slot(of: id) { visits.append((slot, id, points)) }
        }
        for (index, (slot, id, points)) in visits.enumerated() {
            if index + Self.prefetchDistance < visits.count { prefetchPosition(of: visits[index + Self.prefetchDistance].slot) }
            var position = positions[slot]
            for point in points {
                let time = point.time
                let bucket = minute.bucket(of: time)
                if let tail = position.minuteTail, bucket <= tail {
                    tally.closed += 1
                    writes.marks.append(RollupMarks.Mark(series: id, first: bucket, last: bucket, reason: .late))
                } else if time > position.frontier {
                    if time > position.newest {
                        position.newest = time
                        tally.inOrder += 1
                    } else {
                        tally.placed += 1
                    }
                    if folds {
                        held.append(time: time, slot: slot, values: point.values)
                        newestSincePass = max(newestSincePass, time)
                        position.oldestHeld = min(position.oldestHeld, time)
                    }
                } else if folds {
                    // At or behind the newest folded point, in an open minute: a point stored before (a retry)
                    // or a new one whose neighbours were folded; either way its minutes are rebuilt from the rows.
                    tally.unseen += 1
                    foldings[slot].markDirty(from: bucket, through: minute.bucket(of: position.newest))
                }
            }
            positions[slot] = position
            // A minute this batch moved the series past closes with it, unless points of it are still held:
            // then the next pass, which folds them, closes it (a pass for it alone would come for nearly
            // every batch: at 10,000 series, some series crosses a minute's end all the time).
            if folds, let closing = closingMinutes(position), position.oldestHeld >= closing.upperBound { close(slot, writes: &writes) }
        }
        let (advance, overflow) = newestSincePass.subtractingReportingOverflow(newestAtPass)
        let moved = newestSincePass != .min && (overflow || advance >= 2 * Self.reorderWindow)
        guard folds, moved || held.count >= 2 * keptAtPass + Self.passMinimum else { return }
        newestAtPass = max(newestAtPass, newestSincePass)
        newestSincePass = .min
        pass(tally: &tally, writes: &writes)
        keptAtPass = held.count
    }

    /// The minutes the series has moved past that are not closed yet, if any: those ending
    /// `closingGrace` before its newest point.
    private func closingMinutes(_ position: RollupMemory.Position) -> Range<Int64>? {
        let minute = RollupTier.minute
        let from = position.minuteTail.map { $0 + minute.step } ?? 0
        let to = minute.bucket(of: max(0, max(position.newest, 0) - RollupTier.closingGrace))
        return to > from ? from..<to : nil
    }

    /// Folds every held point a reorder window behind its series' newest, in time order, then closes what
    /// every series has moved past.
    private mutating func pass(tally: inout RollupTally, writes: inout RollupMemory.Writes) {
        let window = Self.reorderWindow
        let through = positions.map { max($0.newest, .min + window) - window }
        let leaves = { (slot: Int, time: Int64) in time <= through[slot] }
        // Taken out while releasing, so the buffer and the series are mutated side by side.
        var buffer = held
        held = HeldPoints()
        buffer.release(slots: positions.count, where: leaves) { slot, run in
            tally.stored += foldings[slot].fold(run, after: &positions[slot].frontier)
        }
        held = buffer
        for index in positions.indices { positions[index].oldestHeld = .max }
        held.visitAll { slot, time in positions[slot].oldestHeld = min(positions[slot].oldestHeld, time) }
        for slot in positions.indices { close(slot, writes: &writes) }
    }

    /// Closes the series' minutes that end `closingGrace` before its newest point: their folded states go
    /// to `closed`, minutes not seen whole to `marks`; hours whose minutes are all closed go to
    /// `hourRanges`, to be folded from the minute rows. Every point of a closing minute has been folded:
    /// none was held, or the pass that calls this folded them (the grace is longer than the reorder window).
    private mutating func close(_ slot: Int, writes: inout RollupMemory.Writes) {
        let (minute, hour) = (RollupTier.minute, RollupTier.hour)
        let id = ids[slot]
        if let closing = closingMinutes(positions[slot]) {
            let (from, to) = (closing.lowerBound, closing.upperBound)
            if let dirty = foldings[slot].dirty, dirty.lowerBound < to {
                let last = min(to - minute.step, dirty.upperBound)
                writes.marks.append(RollupMarks.Mark(series: id, first: max(from, dirty.lowerBound), last: last, reason: .unseen))
                foldings[slot].dirty = dirty.upperBound < to ? nil : to...dirty.upperBound
            }
            let closing = foldings[slot].open.prefix { $0.bucket < to }.count
            for open in foldings[slot].open.prefix(closing) { writes.closed.append((id, open.bucket, open.state.state)) }
            foldings[slot].open.removeFirst(closing)
            positions[slot].minuteTail = to - minute.step
        }
        if let minuteTail = positions[slot].minuteTail {
            let hourFrom = positions[slot].hourTail.map { $0 + hour.step } ?? 0
            let hourTo = hour.bucket(of: minuteTail + minute.step)
            if hourTo > hourFrom {
                writes.hourRanges.append((id, hourFrom, hourTo))
                positions[slot].hourTail = hourTo - hour.step
            }
        }
    }
}

extension RollupMemory.Folding {
    /// Folds a series' points leaving the reorder buffer into its open minutes, in time order, and moves
    /// its frontier past them; points in dirty minutes only move the frontier.
    /// - Returns: how many points repeated the one before (dropped: the first write of a time wins). Only
    ///   such a repeat can be at or before the frontier: every held point was after it when held.
    mutating func fold(_ run: HeldPoints.Run, after frontier: inout Int64) -> Int {
        let minute = RollupTier.minute
        var repeats = 0
        for index in 0..<run.count {
            let time = run.time(at: index)
            guard time > frontier else {
                repeats += 1
                continue
            }
            frontier = time
            let bucket = minute.bucket(of: time)
            guard !isDirty(bucket) else { continue }
            if let last = open.indices.last, open[last].bucket == bucket {
                open[last].state.add(time: time, values: run.values(at: index))
            } else {
                open.append(RollupMemory.OpenMinute(bucket: bucket, time: time, values: run.values(at: index)))
            }
        }
        return repeats
    }
}
