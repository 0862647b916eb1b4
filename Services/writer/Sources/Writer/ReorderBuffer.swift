/// A series' newest points, held back a moment before they are folded, so that points arriving a
/// little out of order (concurrent producers interleave) are put in their place and every minute is
/// folded in time order, exactly as from the rows.
///
/// Laid flat: times in one buffer, values copied side by side into another, so holding a point touches
/// memory the series already owns and keeps no reference to the batch's arrays; folding takes the points
/// out in runs, so the open minute's figures are touched once per run, not once per point. A point
/// whose value count differs from the first's (rare) keeps its values aside.
struct ReorderBuffer: Sendable {
    /// In increasing time.
    private var times: ContiguousArray<Int64> = []
    /// `width` values per point, in the order of `times`.
    private var values: ContiguousArray<Double> = []
    private let width: Int
    /// Values of points whose count is not `width`, by time.
    private var ragged: [Int64: [Double]] = [:]

    init(width: Int) {
        self.width = width
    }

    var count: Int { times.count }
    var oldestTime: Int64? { times.first }
    var newestTime: Int64? { times.last }

    /// Where a point at some time belongs.
    enum Place: Equatable {
        /// Held already (the first write of a time wins).
        case held
        /// New, to be inserted at this index.
        case at(Int)
    }

    func place(_ time: Int64) -> Place {
        let index = firstIndex(notBefore: time)
        return index < times.count && times[index] == time ? .held : .at(index)
    }

    /// How many of the oldest points are at or before `time`.
    func count(through time: Int64) -> Int {
        time == .max ? times.count : firstIndex(notBefore: time + 1)
    }

    private func firstIndex(notBefore time: Int64) -> Int {
        var low = 0
        var high = times.count
        while low < high {
            let middle = (low + high) / 2
            if times[middle] < time { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Holds a point newer than every held one.
    mutating func append(_ point: RollupWriter.Point) {
        times.append(point.time)
        if point.values.count == width {
            // Through a buffer pointer: borrowed, with no retain and release of the batch's array.
            point.values.withUnsafeBufferPointer { values.append(contentsOf: $0) }
        } else {
            values.append(contentsOf: repeatElement(0, count: width))
            ragged[point.time] = point.values
        }
    }

    /// Holds a point at the index `place` gave.
    mutating func insert(_ point: RollupWriter.Point, at index: Int) {
        times.insert(point.time, at: index)
        if point.values.count == width {
            values.insert(contentsOf: point.values, at: index * width)
        } else {
            values.insert(contentsOf: repeatElement(0, count: width), at: index * width)
            ragged[point.time] = point.values
        }
    }

    /// Takes out the oldest `count` points, giving each to `body` in increasing time.
    mutating func takeOldest(_ count: Int, _ body: (Int64, UnsafeBufferPointer<Double>) -> Void) {
        guard count > 0 else { return }
        values.withUnsafeBufferPointer { flat in
            for index in 0..<count {
                let time = times[index]
                if !ragged.isEmpty, let own = ragged.removeValue(forKey: time) {
                    own.withUnsafeBufferPointer { body(time, $0) }
                } else {
                    body(time, UnsafeBufferPointer(rebasing: flat[index * width..<(index + 1) * width]))
                }
            }
        }
        times.removeFirst(count)
        values.removeFirst(count * width)
    }
}
