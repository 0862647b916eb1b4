/// A `BucketState` being built from points in increasing time, laid out for the writer's hot path: the
/// figures of each value index side by side in one flat buffer, the block's first and last points among
/// them, so adding a point is one pass over memory the block owns. It keeps no reference to the points'
/// arrays: holding one would make the block the last owner of the previous point's array, and every add
/// would free it, touching memory long gone cold.
///
/// It makes exactly the floating-point operations `BucketState.add` makes, in the same order, so `state`
/// equals the `BucketState` folded from the same points, bit for bit (the tiers promise equality with
/// the raw rows, not closeness). Points only ever come in order: the writer's reorder buffer puts late
/// ones in place before they reach a block.
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
