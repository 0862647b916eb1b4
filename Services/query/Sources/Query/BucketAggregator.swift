/// Aggregates a series' measurements, in time order, into buckets: per bucket and value index the
/// count, sum, minimum, maximum, first and last, and the increase `rate` needs.
///
/// Works from raw rows here; the rollup tiers keep the same per-bucket state, so both paths give the
/// same answers.
public struct BucketAggregator: Sendable {
    /// One value index's running state within one bucket.
    struct Cell: Sendable {
        var count = 0
        var sum = 0.0
        var minimum = Double.infinity
        var maximum = -Double.infinity
        var first = 0.0
        var last = 0.0
        var increase = 0.0

        mutating func add(_ value: Double, previous: Double?) {
            if count == 0 { first = value }
            count += 1
            sum += value
            minimum = Swift.min(minimum, value)
            maximum = Swift.max(maximum, value)
            last = value
            if let previous { increase += value >= previous ? value - previous : value }
        }
    }

    let grid: BucketGrid
    private var cells: [[Cell]]
    /// The latest point before the current one, across buckets, for `rate`.
    private var previous: [Double]?
    private var previousTime: Int64?

    public init(grid: BucketGrid) {
        self.grid = grid
        cells = Array(repeating: [], count: grid.count)
    }

    /// The point just before the window (for `rate`: the first point in the window counts its increase from it).
    public mutating func seed(before values: [Double]) {
        previous = values
    }

    /// Adds a point; points must come in increasing time order. Points outside the grid only serve as
    /// `rate`'s previous point.
    public mutating func add(time: Int64, values: [Double]) {
        precondition(previousTime.map { time > $0 } ?? true, "points must arrive in increasing time order")
        previousTime = time
        defer { previous = values }
        guard let bucket = grid.index(of: time) else { return }
        if cells[bucket].count < values.count {
            cells[bucket].append(contentsOf: repeatElement(Cell(), count: values.count - cells[bucket].count))
        }
        for (index, value) in values.enumerated() {
            let before = previous.flatMap { index < $0.count ? $0[index] : nil }
            cells[bucket][index].add(value, previous: before)
        }
    }

    /// One value per index of each bucket (nil for an empty bucket), before any fill.
    public func values(of function: AggregateFunction) -> [[Double?]?] {
        let seconds = Double(grid.step) / 1e9
        return cells.map { row in
            guard !row.isEmpty else { return nil }
            return row.map { cell -> Double? in
                guard cell.count > 0 else { return nil }
                switch function {
                case .asof, .last: return cell.last
                case .first: return cell.first
                case .min: return cell.minimum
                case .max: return cell.maximum
                case .sum: return cell.sum
                case .avg: return cell.sum / Double(cell.count)
                case .count: return Double(cell.count)
                case .rate: return cell.increase / seconds
                }
            }
        }
    }
}

/// Fills empty buckets as `/api?fill=` asks.
public enum BucketFill {
    /// The answer's buckets: each bucket's start and its values (nil: `"values": null`).
    public static func apply(_ fill: Fill, to buckets: [[Double?]?], grid: BucketGrid) -> [(time: Int64, values: [Double?]?)] {
        var answer: [(time: Int64, values: [Double?]?)] = []
        answer.reserveCapacity(buckets.count)
        switch fill {
        case .null:
            for (index, values) in buckets.enumerated() { answer.append((grid.start(ofBucket: index), values)) }
        case .none:
            for (index, values) in buckets.enumerated() where values != nil { answer.append((grid.start(ofBucket: index), values)) }
        case .previous:
            var last: [Double?]?
            for (index, values) in buckets.enumerated() {
                if let values { last = values }
                answer.append((grid.start(ofBucket: index), values ?? last))
            }
        case .linear:
            let filled = buckets.indices.filter { buckets[$0] != nil }
            var next = 0
            for (index, values) in buckets.enumerated() {
                while next < filled.count, filled[next] < index { next += 1 }
                if let values {
                    answer.append((grid.start(ofBucket: index), values))
                    continue
                }
                guard next > 0, next < filled.count, let before = buckets[filled[next - 1]], let after = buckets[filled[next]] else {
                    answer.append((grid.start(ofBucket: index), nil))
                    continue
                }
                let (left, right) = (filled[next - 1], filled[next])
                let fraction = Double(index - left) / Double(right - left)
                let width = Swift.max(before.count, after.count)
                let interpolated = (0..<width).map { position -> Double? in
                    guard position < before.count, position < after.count, let a = before[position], let b = after[position] else { return nil }
                    return a + (b - a) * fraction
                }
                answer.append((grid.start(ofBucket: index), interpolated))
            }
        }
        return answer
    }
}
