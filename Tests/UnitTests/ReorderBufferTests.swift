import SluiceModel
import SluiceStorage
import Testing

@testable import Writer

/// The writer's in-memory rollups without PostgreSQL: points held in the reorder buffer, folded in runs
/// and closed, against each minute folded whole from its points in time order.
@Suite struct ReorderBufferTests {
    let second: Int64 = 1_000_000_000

    /// Points a little out of order (within the reorder window), repeated ones and ragged value counts:
    /// every minute closes with exactly the state of its points folded in order, and nothing is marked.
    @Test(arguments: 1...30 as ClosedRange<UInt64>)
    func minutesCloseAsIfFoldedInOrder(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let base: Int64 = 1_800_000_000 * second
        var time = base
        let points: [RollupWriter.Point] = (0..<2000).map { _ in
            time += Int64.random(in: 1...40_000_000, using: &generator)
            let width = Int.random(in: 0..<12, using: &generator) == 0 ? 2 : 3
            return RollupWriter.Point(time: time, values: (0..<width).map { _ in Double(Int.random(in: -50...50, using: &generator)) / 8 })
        }
        // Batches of consecutive points, a few of each carried to the next (well inside the window), and
        // a few points sent again.
        var batches: [[RollupWriter.Point]] = []
        var carried: [RollupWriter.Point] = []
        var next = 1
        while next < points.count {
            let end = min(points.count, next + Int.random(in: 5...20, using: &generator))
            var batch = carried + points[next..<end]
            carried = []
            for _ in 0..<Int.random(in: 0...2, using: &generator) where batch.count > 1 {
                carried.append(batch.remove(at: Int.random(in: 0..<batch.count, using: &generator)))
            }
            if Bool.random(using: &generator), let again = batch.randomElement(using: &generator) { batch.append(again) }
            batches.append(batch)
            next = end
        }
        batches.append(carried)

        var series = RollupMemory.Series.created(first: points[0])
        var tally = RollupTally()
        var marks: [RollupMarks.Mark] = []
        var closed: [RollupFold.Bucket] = []
        var hours: [RollupFold.Range] = []
        for batch in batches {
            // As `BatchSeries` hands them over: in time order, one per time.
            var ordered = batch
            ordered.orderAndDeduplicate()
            series.fold(ordered[...], series: 1, folds: true, tally: &tally, marks: &marks)
            series.close(series: 1, closed: &closed, marks: &marks, hourRanges: &hours)
        }
        // A point far later closes every minute.
        let last = RollupWriter.Point(time: time + 120 * second, values: [0, 0, 0])
        series.fold([last][...], series: 1, folds: true, tally: &tally, marks: &marks)
        series.close(series: 1, closed: &closed, marks: &marks, hourRanges: &hours)

        #expect(marks.isEmpty, "seed \(seed): \(marks)")
        #expect(tally.unseen == 0 && tally.closed == 0, "seed \(seed)")
        var expected: [Int64: BucketState] = [:]
        for point in points {
            let minute = RollupTier.minute.bucket(of: point.time)
            if expected[minute] == nil {
                expected[minute] = BucketState(time: point.time, values: point.values)
            } else {
                expected[minute]?.add(time: point.time, values: point.values)
            }
        }
        #expect(closed.count == expected.count, "seed \(seed)")
        for (id, bucket, state) in closed {
            #expect(id == 1 && state == expected[bucket], "seed \(seed), minute \(bucket)")
        }
    }

    /// A point behind the reorder buffer cannot be put in its place: its minute (through the newest's) is
    /// marked when it closes instead of written; later minutes are written as usual.
    @Test func aPointBehindTheBufferMarksItsMinute() {
        let base: Int64 = 1_800_000_000 * second  // a whole minute
        var series = RollupMemory.Series.created(first: RollupWriter.Point(time: base, values: [1]))
        var tally = RollupTally()
        var marks: [RollupMarks.Mark] = []
        var closed: [RollupFold.Bucket] = []
        var hours: [RollupFold.Range] = []
        // Points every second for 30 s, then one 20 s old: long folded, its minute still open.
        let inOrder = (1...30).map { RollupWriter.Point(time: base + Int64($0) * second, values: [Double($0)]) }
        series.fold(inOrder[...], series: 7, folds: true, tally: &tally, marks: &marks)
        series.fold([RollupWriter.Point(time: base + 10 * second + 1, values: [99])][...], series: 7, folds: true, tally: &tally, marks: &marks)
        #expect(tally.unseen == 1)
        // Past the next minute's grace: both minutes close, the first as a mark.
        let later = (0...70).map { RollupWriter.Point(time: base + 60 * second + Int64($0) * second, values: [Double($0)]) }
        series.fold(later[...], series: 7, folds: true, tally: &tally, marks: &marks)
        series.close(series: 7, closed: &closed, marks: &marks, hourRanges: &hours)
        #expect(closed.map(\.bucket) == [base + 60 * second])
        #expect(marks == [RollupMarks.Mark(series: 7, first: base, last: base, reason: .unseen)])
    }
}
