import SluiceModel
import SluiceStorage

/// The writer's rollup work that reads and writes nothing: folding a batch's points into a series' open
/// minutes, and closing the minutes and hours the series has moved past. `RollupWriter` does the reads
/// and writes around it; `sluice-bench-rollups` times it alone.
extension RollupMemory.Series {
    /// Folds a batch's points of this series, in increasing time, one per time. A point after the newest
    /// is folded into its open minute; one a little out of order is placed between its neighbours; one
    /// for a closed minute is marked `late`; one the memory cannot place leaves its minute to be marked
    /// `unseen` at close. With `folds` false only the `late` marks are made.
    package mutating func fold(
        _ points: ArraySlice<RollupWriter.Point>, series id: Int64, folds: Bool, tally: inout RollupTally, marks: inout [RollupMarks.Mark]
    ) {
        let minute = RollupTier.minute
        for point in points {
            let bucket = minute.bucket(of: point.time)
            let newest = self.newest
            if let tail = minuteTail, bucket <= tail {
                switch place(point.time) {
                case .stored:
                    tally.stored += 1
                    continue
                case .between(_, _, let index): remember(point, at: index)
                case .unknown: break
                }
                tally.closed += 1
                marks.append(RollupMarks.Mark(series: id, first: bucket, last: bucket, reason: .late))
            } else if !folds {
                if point.time > newest.time { remember(point) }
            } else if point.time > newest.time {
                if !isDirty(bucket) {
                    // Through the index, so the state is mutated in place, never copied.
                    if let index = open.index(forKey: bucket) {
                        open.values[index].add(time: point.time, values: point.values)
                    } else {
                        open[bucket] = BucketState(time: point.time, values: point.values)
                    }
                }
                remember(point)
                tally.inOrder += 1
            } else {
                placeLate(point, bucket: bucket, tally: &tally)
            }
        }
    }

    /// Closes the minutes that end `closingGrace` before the newest point: their folded states go to
    /// `closed`, minutes not seen whole to `marks`; hours whose minutes are all closed go to `hourRanges`,
    /// to be folded from the minute rows.
    package mutating func close(series id: Int64, closed: inout [RollupFold.Bucket], marks: inout [RollupMarks.Mark], hourRanges: inout [RollupFold.Range]) {
        let minute = RollupTier.minute, hour = RollupTier.hour
        let from = minuteTail.map { $0 + minute.step } ?? 0
        let to = minute.bucket(of: max(0, newest.time - RollupTier.closingGrace))
        if to > from {
            if let dirty, dirty.lowerBound < to {
                let last = min(to - minute.step, dirty.upperBound)
                marks.append(RollupMarks.Mark(series: id, first: max(from, dirty.lowerBound), last: last, reason: .unseen))
                self.dirty = dirty.upperBound < to ? nil : to...dirty.upperBound
            }
            // The keys are copied out first: removing while iterating `open.keys` would copy the dictionary.
            for bucket in open.keys.filter({ $0 < to }) {
                if let state = open.removeValue(forKey: bucket) { closed.append((id, bucket, state)) }
            }
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

    /// Places a point older than the series' newest into its open minute, between its two stored
    /// neighbours (only those inside the minute count, `BucketState.insert`). A point stored already
    /// changes nothing; one older than the remembered points, or one the open minute cannot take exactly
    /// (ragged value counts), leaves its minutes to be marked at close.
    private mutating func placeLate(_ point: RollupWriter.Point, bucket: Int64, tally: inout RollupTally) {
        let minute = RollupTier.minute
        let newestMinute = minute.bucket(of: newest.time)
        let before: RollupWriter.Point, after: RollupWriter.Point
        switch place(point.time) {
        case .stored:
            tally.stored += 1
            return
        case .unknown:
            tally.unseen += 1
            markDirty(from: bucket, through: newestMinute)
            return
        case .between(let found, let next, let index):
            (before, after) = (found, next)
            remember(point, at: index)
        }
        guard !isDirty(bucket) else {
            tally.unseen += 1
            return
        }
        let beforeInside = minute.bucket(of: before.time) == bucket ? before.values : nil
        let afterInside = minute.bucket(of: after.time) == bucket ? after.values : nil
        if open[bucket] == nil && beforeInside == nil && afterInside == nil {
            open[bucket] = BucketState(time: point.time, values: point.values)
        } else if open[bucket]?.insert(time: point.time, values: point.values, before: beforeInside, after: afterInside) != true {
            tally.unseen += 1
            markDirty(from: bucket, through: newestMinute)
            return
        }
        tally.placed += 1
    }
}
