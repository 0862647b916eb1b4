/// A `BucketState` being built from points in increasing time, laid out for the writer's hot path: the
/// figures of each value index side by side in one flat buffer, the block's first and last points among
/// them, so adding a point is one pass over memory the block owns. It keeps no reference to the points'
/// arrays: holding one would make the block the last owner of the previous point's array, and every add
/// would free it, touching memory long gone cold.
///
/// It makes exactly the floating-point operations `BucketState.add` makes, in the same order, so `state`
/// equals the `BucketState` folded from the same points, bit for bit (the tiers promise equality with
/// the raw rows, not closeness). Points only ever come in order: the writer's reorder buffer puts late
/// ones in place before they reach a block. `/api` builds its buckets in it too, from tier rows appended
/// (`append`, `countIncrease(after:)`: `BucketState`'s operations, bit for bit) and from raw points.
public struct BucketAccumulator: Sendable {
    /// Per value index: count, sum, minimum, maximum, first, last, increase, and the index's value in the
    /// block's first point and in its last point. Counts are exact in a `Double` far past any block's
    /// point count.
    private var figures: ContiguousArray<Double>
    public private(set) var firstTime: Int64
    public private(set) var lastTime: Int64
    /// How many values the first and the last point had.
    private var firstWidth: Int
    private var lastWidth: Int

    private static let stride = 9
    private static let (count, sum, minimum, maximum, first, last, increase, firstPoint, lastPoint) = (0, 1, 2, 3, 4, 5, 6, 7, 8)

    /// A block holding one point.
    public init(time: Int64, values: [Double]) {
        self = values.withUnsafeBufferPointer { BucketAccumulator(time: time, values: $0) }
    }

    /// A block holding one point, whose values lie in memory the caller owns.
    public init(time: Int64, values: UnsafeBufferPointer<Double>) {
        figures = ContiguousArray(repeating: 0, count: values.count * Self.stride)
        firstTime = time
        lastTime = time
        firstWidth = values.count
        lastWidth = 0
        for (index, value) in values.enumerated() { figures[index * Self.stride + Self.firstPoint] = value }
        absorb(values)
    }

    /// A block that starts as a whole one (a tier row), for `/api` to append the bucket's next rows to
    /// in place: appending to a `BucketState` the caller shares copies its nine arrays first.
    public init(_ block: BucketState) {
        let width = Swift.max(block.counts.count, block.firstPoint.count, block.lastPoint.count)
        figures = ContiguousArray(repeating: 0, count: width * Self.stride)
        firstTime = block.firstTime
        lastTime = block.lastTime
        firstWidth = block.firstPoint.count
        lastWidth = block.lastPoint.count
        let (counts, sums, minimums, maximums) = (block.counts, block.sums, block.minimums, block.maximums)
        let (firsts, lasts, increases) = (block.firsts, block.lasts, block.increases)
        let (firstPoint, lastPoint) = (block.firstPoint, block.lastPoint)
        figures.withUnsafeMutableBufferPointer { figures in
            for index in counts.indices {
                let base = index * Self.stride
                figures[base + Self.count] = Double(counts[index])
                figures[base + Self.sum] = Self.element(index, of: sums)
                figures[base + Self.minimum] = Self.element(index, of: minimums)
                figures[base + Self.maximum] = Self.element(index, of: maximums)
                figures[base + Self.first] = Self.element(index, of: firsts)
                figures[base + Self.last] = Self.element(index, of: lasts)
                figures[base + Self.increase] = Self.element(index, of: increases)
            }
            for (index, value) in firstPoint.enumerated() { figures[index * Self.stride + Self.firstPoint] = value }
            for (index, value) in lastPoint.enumerated() { figures[index * Self.stride + Self.lastPoint] = value }
        }
    }

    /// Adds a point later than every point in the block; its increase counts against the block's last.
    public mutating func add(time: Int64, values: [Double]) {
        values.withUnsafeBufferPointer { add(time: time, values: $0) }
    }

    /// Adds a point later than every point in the block, whose values lie in memory the caller owns.
    public mutating func add(time: Int64, values: UnsafeBufferPointer<Double>) {
        precondition(time > lastTime, "points are added in increasing time order")
        lastTime = time
        absorb(values)
    }

    /// `BucketState.append`: a block of points all later than this one's, with the term joining its
    /// first point to this block's last, in the same operations and order.
    public mutating func append(_ later: BucketState) {
        precondition(later.firstTime > lastTime, "appended points must all be later")
        let stride = Self.stride
        let width = Swift.max(later.counts.count, later.firstPoint.count, later.lastPoint.count)
        if figures.count < width * stride {
            figures.append(contentsOf: repeatElement(0, count: width * stride - figures.count))
        }
        let (counts, sums, minimums, maximums) = (later.counts, later.sums, later.minimums, later.maximums)
        let (firsts, lasts, increases) = (later.firsts, later.lasts, later.increases)
        let (firstPoint, lastPoint) = (later.firstPoint, later.lastPoint)
        let previousWidth = lastWidth
        figures.withUnsafeMutableBufferPointer { figures in
            for index in counts.indices where counts[index] > 0 {
                let base = index * stride
                if figures[base + Self.count] == 0 {
                    figures[base + Self.first] = Self.element(index, of: firsts)
                    figures[base + Self.minimum] = Self.element(index, of: minimums)
                    figures[base + Self.maximum] = Self.element(index, of: maximums)
                } else {
                    figures[base + Self.minimum] = Swift.min(figures[base + Self.minimum], Self.element(index, of: minimums))
                    figures[base + Self.maximum] = Swift.max(figures[base + Self.maximum], Self.element(index, of: maximums))
                }
                figures[base + Self.count] += Double(counts[index])
                figures[base + Self.sum] += Self.element(index, of: sums)
                figures[base + Self.last] = Self.element(index, of: lasts)
                if index < firstPoint.count {
                    // The joining term, against this block's last point as it was before this one.
                    figures[base + Self.increase] += Self.increase(of: firstPoint[index], after: index < previousWidth ? figures[base + Self.lastPoint] : nil)
                }
                figures[base + Self.increase] += Self.element(index, of: increases)
            }
            for index in 0..<Swift.max(previousWidth, lastPoint.count) {
                figures[index * stride + Self.lastPoint] = Self.element(index, of: lastPoint)
            }
        }
        lastTime = later.lastTime
        lastWidth = lastPoint.count
    }

    /// `BucketState.countIncrease(after:)`: the first point's increase against the point before the block.
    public mutating func countIncrease(after previous: [Double]) {
        let (stride, width, firstWidth) = (Self.stride, figures.count / Self.stride, firstWidth)
        figures.withUnsafeMutableBufferPointer { figures in
            for index in 0..<Swift.min(firstWidth, width) {
                let base = index * stride
                let term = Self.increase(of: figures[base + Self.firstPoint], after: index < previous.count ? previous[index] : nil)
                figures[base + Self.increase] = term + figures[base + Self.increase]
            }
        }
    }

    /// The aggregate per value index, as `BucketState`'s figures give it (nil where the index has no value).
    public func values(of function: AggregateFunction, stepNanoseconds: Int64) -> [Double?] {
        (0..<figures.count / Self.stride).map { index -> Double? in
            let base = index * Self.stride
            return function.value(stepNanoseconds: stepNanoseconds) { figure in
                switch figure {
                case .count: figures[base + Self.count]
                case .sum: figures[base + Self.sum]
                case .minimum: figures[base + Self.minimum]
                case .maximum: figures[base + Self.maximum]
                case .first: figures[base + Self.first]
                case .last: figures[base + Self.last]
                case .increase: figures[base + Self.increase]
                }
            }
        }
    }

    /// A value's increase against the one before it (`BucketState.contribution`): the rise, or the value
    /// itself after a fall (a counter reset); nothing without one before.
    private static func increase(of value: Double, after previous: Double?) -> Double {
        guard let previous else { return 0 }
        return value >= previous ? value - previous : value
    }

    /// An array's element, zero past its end: a tier row whose arrays disagree in length reads as zeros
    /// there instead of trapping.
    private static func element(_ index: Int, of array: [Double]) -> Double {
        index < array.count ? array[index] : 0
    }

    /// The block as a `BucketState`: what is written as a tier row.
    public var state: BucketState {
        let width = figures.count / Self.stride
        func column(_ offset: Int, _ count: Int = width) -> [Double] { (0..<count).map { figures[$0 * Self.stride + offset] } }
        return BucketState(
            counts: (0..<width).map { Int32(figures[$0 * Self.stride + Self.count]) }, sums: column(Self.sum),
            minimums: column(Self.minimum), maximums: column(Self.maximum), firsts: column(Self.first), lasts: column(Self.last),
            increases: column(Self.increase), firstTime: firstTime, lastTime: lastTime,
            firstPoint: column(Self.firstPoint, firstWidth), lastPoint: column(Self.lastPoint, lastWidth)
        )
    }

    /// `BucketState.absorb`, over the flat layout: the same operations in the same order. The previous
    /// point is the block's last (none for its first point).
    private mutating func absorb(_ values: UnsafeBufferPointer<Double>) {
        let stride = Self.stride
        if figures.count < values.count * stride {
            figures.append(contentsOf: repeatElement(0, count: values.count * stride - figures.count))
        }
        let previousWidth = lastWidth
        figures.withUnsafeMutableBufferPointer { figures in
            for index in 0..<values.count {
                let base = index * stride
                let value = values[index]
                if figures[base + Self.count] == 0 {
                    figures[base + Self.first] = value
                    figures[base + Self.minimum] = value
                    figures[base + Self.maximum] = value
                } else {
                    figures[base + Self.minimum] = Swift.min(figures[base + Self.minimum], value)
                    figures[base + Self.maximum] = Swift.max(figures[base + Self.maximum], value)
                }
                figures[base + Self.count] += 1
                figures[base + Self.sum] += value
                figures[base + Self.last] = value
                if index < previousWidth {
                    let before = figures[base + Self.lastPoint]
                    figures[base + Self.increase] += value >= before ? value - before : value
                }
                figures[base + Self.lastPoint] = value
            }
        }
        lastWidth = values.count
    }
}
