// sluice-bench-rollups: what the writer's rollup folding costs per point, alone (no PostgreSQL): the
// memory taken and given back per batch, the points held in the reorder buffer and folded into their
// series' open minutes, and the minutes and hours closed, through the call the writer makes.
// Producer-like points: ten values, tags of geometric popularity, a few points a batch late (concurrent
// POSTs). The figure depends most on how many series a batch touches: with few tags the state stays in
// cache (try `… 2000000 100`).
//
//   swift run -c release sluice-bench-rollups [points (10000000)] [tags (10000)] [batch (8000)]
import Foundation
import SluiceModel
import SluiceStorage
import Writer

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let total = arguments.count > 0 ? arguments[0] : 10_000_000
let tags = arguments.count > 1 ? arguments[1] : 10_000
let batchSize = arguments.count > 2 ? arguments[2] : 8_000

/// The whole run, in a function: top-level code is main-actor code, and its globals cost checks.
func run(total: Int, tags: Int, batchSize: Int) {
    var generator = SeededGenerator(seed: 5)
    /// Tag `i` is drawn with weight `q^i`: the most popular a hundred times the least.
    let q = pow(0.01, 1 / Double(tags))

    let memory = RollupMemory(capacity: 1_000_000)
    var walk = [Double](repeating: 50, count: 10)
    var heldBack: [(Int64, RollupWriter.Point)] = []
    var tally = RollupTally()
    var closedMinutes = 0
    var hourRanges = 0
    var marks = 0
    var elapsed = Duration.zero
    let clock = ContinuousClock()
    let start: Int64 = 1_795_500_000_000_000_000
    var produced = 0

    while produced < total {
        // One batch: points 25 µs apart (40k/s), grouped per series in time order as the writer groups them;
        // about 1% held back to the next batch, so they arrive a little out of order.
        var batch: [Int64: [RollupWriter.Point]] = [:]
        for (id, point) in heldBack { batch[id, default: []].append(point) }
        heldBack.removeAll(keepingCapacity: true)
        for _ in 0..<min(batchSize, total - produced) {
            let drawn = log(1 - Double.random(in: 0..<1, using: &generator) * (1 - pow(q, Double(tags)))) / log(q)
            let id = min(Int64(tags - 1), Int64(drawn))
            walk = walk.map { $0 + Double.random(in: -0.5..<0.5, using: &generator) }
            let point = RollupWriter.Point(time: start + Int64(produced) * 25_000, values: walk)
            produced += 1
            if Double.random(in: 0..<1, using: &generator) < 0.01 { heldBack.append((id, point)) } else { batch[id, default: []].append(point) }
        }
        for id in batch.keys { batch[id]?.sort { $0.time < $1.time } }

        let began = clock.now
        var taken = memory.take()
        var writes = RollupMemory.Writes()
        taken.table.rememberCreated(in: batch) { _ in true }
        taken.table.fold(batch, folds: true, tally: &tally, writes: &writes)
        memory.giveBack(taken)
        elapsed += clock.now - began
        closedMinutes += writes.closed.count
        hourRanges += writes.hourRanges.count
        marks += writes.marks.count
    }

    let seconds = elapsed.fractionalSeconds
    print("points \(tally.points) (\(tags) tags, batches of \(batchSize)): \(String(format: "%.1f", seconds * 1e9 / Double(tally.points))) ns per point")
    print("  in order \(tally.inOrder), placed \(tally.placed), unseen \(tally.unseen), late into closed minutes \(tally.closed), seen before \(tally.stored)")
    print("  minutes closed \(closedMinutes), hour ranges \(hourRanges), marks \(marks)")
}

run(total: total, tags: tags, batchSize: batchSize)
