import SluiceModel
import SluiceStorage
import Testing

@testable import Writer

/// The writer's in-memory rollups without PostgreSQL: points held in the reorder buffer, folded in
/// passes and closed, against each minute folded whole from its points in time order.
@Suite struct RollupMemoryTests {
    let second: Int64 = 1_000_000_000

    /// Several series at different rates, their points a little out of order (within the reorder window),
    /// some repeated, some with ragged value counts, in batches that mix the series: every minute of every
    /// series closes with exactly the state of its points folded in order, and nothing is marked.
    @Test(arguments: 1...30 as ClosedRange<UInt64>)
    func minutesCloseAsIfFoldedInOrder(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let base: Int64 = 1_800_000_000 * second
        // Series 10, 20, …: the first about 25 points a second, the last one every few seconds.
        let ids: [Int64] = (1...Int64.random(in: 2...6, using: &generator)).map { $0 * 10 }
        var points: [(id: Int64, point: RollupWriter.Point)] = []
        for (rank, id) in ids.enumerated() {
            var time = base + Int64.random(in: 0..<second, using: &generator)
            let gap = Int64(40_000_000) << Int64(2 * rank)
            while time < base + 200 * second {
                let width = Int.random(in: 0..<12, using: &generator) == 0 ? 2 : 3
                points.append((id, RollupWriter.Point(time: time, values: (0..<width).map { _ in Double(Int.random(in: -50...50, using: &generator)) / 8 })))
                time += Int64.random(in: 1...gap, using: &generator)
            }
        }
        // Arrival: by time, each point moved up to 1.5 s later (concurrent POSTs); then batches of
        // consecutive arrivals, a few points sent again.
        let arrival = points.map { ($0, $0.point.time + Int64.random(in: 0...1_500_000_000, using: &generator)) }.sorted { $0.1 < $1.1 }.map(\.0)
        var table = RollupMemory.Table()
        var tally = RollupTally()
        var writes = RollupMemory.Writes()
        var next = 0
        while next < arrival.count {
            let end = min(arrival.count, next + Int.random(in: 5...400, using: &generator))
            var batch = Array(arrival[next..<end])
            // A repeat of a point still held: newer than any frontier can be, which trails the newest point
            // (at most the last arrival's time + 1.5 s) by the 2 s window.
            if Bool.random(using: &generator), let again = arrival[..<end].randomElement(using: &generator),
                again.point.time > arrival[end - 1].point.time - second / 2
            {
                batch.append(again)
            }
            fold(batch, into: &table, tally: &tally, writes: &writes)
            next = end
        }
        // A point of each series far later closes every minute.
        fold(ids.map { ($0, RollupWriter.Point(time: base + 400 * second, values: [0, 0, 0])) }, into: &table, tally: &tally, writes: &writes)

        #expect(writes.marks.isEmpty, "seed \(seed): \(writes.marks)")
        #expect(tally.unseen == 0 && tally.closed == 0, "seed \(seed)")
        let expected = Dictionary(grouping: points, by: \.id).mapValues { minutes(of: $0.map(\.point)) }
        #expect(writes.closed.count == expected.values.map(\.count).reduce(0, +), "seed \(seed)")
        for (id, bucket, state) in writes.closed {
            #expect(state == expected[id]?[bucket], "seed \(seed), series \(id), minute \(bucket)")
        }
    }

    /// A series that sent a second of points an hour ahead of the others, and nothing since, does not hold
    /// theirs back: passes come as the held points grow, and every minute of the others closes exact.
    @Test func aSeriesAnHourAheadDoesNotHoldTheOthersBack() {
        var generator = SeededGenerator(seed: 7)
        let base: Int64 = 1_800_000_000 * second
        var table = RollupMemory.Table()
        var tally = RollupTally()
        var writes = RollupMemory.Writes()
        var sent: [Int64: [RollupWriter.Point]] = [:]
        // 300 s of batches 100 ms apart; series 1 and 2 on time, series 3 an hour ahead in the first ten;
        // each batch's points of a series a little out of order.
        for tick in 0..<3000 {
            var batch: [(Int64, RollupWriter.Point)] = []
            for id: Int64 in tick < 10 ? [1, 2, 3] : [1, 2] {
                for _ in 0..<5 {
                    let time = base + (id == 3 ? 3600 * second : 0) + Int64(tick) * 100_000_000 + Int64.random(in: 0..<100_000_000, using: &generator)
                    let point = RollupWriter.Point(time: time, values: [Double.random(in: 0..<10, using: &generator).rounded()])
                    sent[id, default: []].append(point)
                    batch.append((id, point))
                }
            }
            fold(batch, into: &table, tally: &tally, writes: &writes)
        }
        #expect(writes.marks.isEmpty && tally.unseen == 0)
        let expected = sent.mapValues { minutes(of: $0) }
        for (id, bucket, state) in writes.closed {
            #expect(state == expected[id]?[bucket], "series \(id), minute \(bucket)")
        }
        // Four whole minutes of series 1 and 2 closed (series 3's minute waits for a later point).
        #expect(Set(writes.closed.map(\.series)) == [1, 2] && writes.closed.count == 8, "\(writes.closed.map { ($0.series, $0.bucket) })")
    }

    /// A point behind the reorder buffer cannot be put in its place: its minute (through the newest's) is
    /// marked when it closes instead of written; later minutes are written as usual.
    @Test func aPointBehindTheBufferMarksItsMinute() {
        let base: Int64 = 1_800_000_000 * second  // a whole minute
        var table = RollupMemory.Table()
        var tally = RollupTally()
        var writes = RollupMemory.Writes()
        // Points every second for 30 s, then one 20 s old: long folded, its minute still open.
        fold((0...30).map { (7, RollupWriter.Point(time: base + Int64($0) * second, values: [Double($0)])) }, into: &table, tally: &tally, writes: &writes)
        fold([(7, RollupWriter.Point(time: base + 10 * second + 1, values: [99]))], into: &table, tally: &tally, writes: &writes)
        #expect(tally.unseen == 1)
        // Past the next minute's grace: both minutes close, the first as a mark.
        let later = (0...70).map { (Int64(7), RollupWriter.Point(time: base + 60 * second + Int64($0) * second, values: [Double($0)])) }
        fold(later, into: &table, tally: &tally, writes: &writes)
        #expect(writes.closed.map(\.bucket) == [base + 60 * second])
        #expect(writes.marks == [RollupMarks.Mark(series: 7, first: base, last: base, reason: .unseen)])
    }

    /// A point for a closed minute is marked in the batch that brings it, whatever the passes do: its row
    /// is stored in that batch's transaction, and a mark made later would be lost with a crash between.
    @Test func aPointForAClosedMinuteIsMarkedAtOnce() {
        let base: Int64 = 1_800_000_000 * second
        var table = RollupMemory.Table()
        var tally = RollupTally()
        var writes = RollupMemory.Writes()
        fold((0...70).map { (3, RollupWriter.Point(time: base + Int64($0) * second, values: [1])) }, into: &table, tally: &tally, writes: &writes)
        #expect(writes.closed.map(\.bucket) == [base])
        var late = RollupMemory.Writes()
        fold([(3, RollupWriter.Point(time: base + 30 * second + 1, values: [5]))], into: &table, tally: &tally, writes: &late)
        #expect(late.marks == [RollupMarks.Mark(series: 3, first: base, last: base, reason: .late)])
        #expect(tally.closed == 1)
    }

    /// Each minute of a series' points folded whole, in time order: what its tier row must hold.
    private func minutes(of points: [RollupWriter.Point]) -> [Int64: BucketState] {
        var states: [Int64: BucketState] = [:]
        for point in points.sorted(by: { $0.time < $1.time }) {
            let minute = RollupTier.minute.bucket(of: point.time)
            if states[minute] == nil {
                states[minute] = BucketState(time: point.time, values: point.values)
            } else {
                states[minute]?.add(time: point.time, values: point.values)
            }
        }
        return states
    }

    /// Hands a batch to the table as `RollupWriter` does: per series in time order with one point per time
    /// (as `BatchSeries` groups them), series new to the table created at their first point.
    private func fold(_ batch: [(Int64, RollupWriter.Point)], into table: inout RollupMemory.Table, tally: inout RollupTally, writes: inout RollupMemory.Writes)
    {
        var added: [Int64: [RollupWriter.Point]] = [:]
        for (id, point) in batch { added[id, default: []].append(point) }
        for id in added.keys { added[id]?.orderAndDeduplicate() }
        table.rememberCreated(in: added) { _ in true }
        table.fold(added, folds: true, tally: &tally, writes: &writes)
    }
}
