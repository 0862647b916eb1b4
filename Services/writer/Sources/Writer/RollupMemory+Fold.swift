import SluiceModel
import SluiceStorage

/// The writer's rollup work that reads and writes nothing: holding a batch's points of a series in its
/// reorder buffer, folding the points that leave it into the open minutes, and closing the minutes and
/// hours the series has moved past. `RollupWriter` does the reads and writes around it;
/// `sluice-bench-rollups` times it alone.
extension RollupMemory.Series {
    /// Takes a batch's points of this series, in increasing time, one per time. A point after the newest
    /// is held; one a little out of order is put in its place among the held ones; one for a closed
    /// minute is marked `late`; one behind the held points (its neighbours folded already) leaves its
    /// minutes to be marked `unseen` at close. Points a reorder window behind the newest are then folded.
    /// With `folds` false nothing is folded and only the `late` marks are made.
    package mutating func fold(
        _ points: ArraySlice<RollupWriter.Point>, series id: Int64, folds: Bool, tally: inout RollupTally, marks: inout [RollupMarks.Mark]
    ) {
        let minute = RollupTier.minute
        for index in points.indices {
            let time = points[index].time
            let bucket = minute.bucket(of: time)
            if let tail = minuteTail, bucket <= tail {
                if case .held = held.place(time) {
                    tally.stored += 1
                    continue
                }
                tally.closed += 1
                marks.append(RollupMarks.Mark(series: id, first: bucket, last: bucket, reason: .late))
            } else if time > newestTime {
                held.append(points[index])
                tally.inOrder += 1
            } else if time > frontier {
                switch held.place(time) {
                case .held: tally.stored += 1
                case .at(let position):
                    held.insert(points[index], at: position)
                    tally.placed += 1
                }
            } else if folds {
                // Behind the reorder buffer, in an open minute: a point stored before (a retry) or a new one
                // whose neighbours were folded; either way its minute is rebuilt from the rows.
                tally.unseen += 1
                markDirty(from: bucket, through: minute.bucket(of: newestTime))
            }
        }
        // Folded in runs: once the oldest held point is twice the window behind, down to the window.
        if let oldest = held.oldestTime, oldest < newestTime - 2 * Self.reorderWindow || held.count >= 2 * Self.heldLimit {
            release(through: newestTime - Self.reorderWindow, folds: folds)
        }
    }

    /// Closes the minutes that end `closingGrace` before the newest point: their folded states go to
    /// `closed`, minutes not seen whole to `marks`; hours whose minutes are all closed go to `hourRanges`,
    /// to be folded from the minute rows.
    package mutating func close(series id: Int64, closed: inout [RollupFold.Bucket], marks: inout [RollupMarks.Mark], hourRanges: inout [RollupFold.Range]) {
        let minute = RollupTier.minute
        let hour = RollupTier.hour
        let from = minuteTail.map { $0 + minute.step } ?? 0
        let to = minute.bucket(of: max(0, newestTime - RollupTier.closingGrace))
        if to > from {
            // The window is shorter than the grace, so this is rarely anything: held points of closing minutes.
            release(through: to - 1, folds: true)
            if let dirty, dirty.lowerBound < to {
                let last = min(to - minute.step, dirty.upperBound)
                marks.append(RollupMarks.Mark(series: id, first: max(from, dirty.lowerBound), last: last, reason: .unseen))
                self.dirty = dirty.upperBound < to ? nil : to...dirty.upperBound
            }
            let closing = open.prefix { $0.bucket < to }.count
            for minute in open.prefix(closing) { closed.append((id, minute.bucket, minute.state.state)) }
            open.removeFirst(closing)
            minuteTail = to - minute.step
        }
        if let minuteTail {
            let hourFrom = hourTail.map { $0 + hour.step } ?? 0
            let hourTo = hour.bucket(of: minuteTail + minute.step)
            if hourTo > hourFrom {
                hourRanges.append((id, hourFrom, hourTo))
                hourTail = hourTo - hour.step
            }
        }
    }

    /// Folds the held points at or before `time` (and the oldest past `heldLimit`) into their open
    /// minutes, in time order, and moves the frontier past them.
    private mutating func release(through time: Int64, folds: Bool) {
        let count = max(held.count(through: time), held.count - Self.heldLimit)
        guard count > 0 else { return }
        // Taken out while folding, so the buffer and the open minutes are mutated side by side.
        var buffer = held
        held = ReorderBuffer(width: 0)
        let minute = RollupTier.minute
        buffer.takeOldest(count) { time, values in
            frontier = time
            let bucket = minute.bucket(of: time)
            guard folds, !isDirty(bucket) else { return }
            if let last = open.indices.last, open[last].bucket == bucket {
                open[last].state.add(time: time, values: values)
            } else {
                open.append(RollupMemory.OpenMinute(bucket: bucket, time: time, values: values))
            }
        }
        held = buffer
    }
}
