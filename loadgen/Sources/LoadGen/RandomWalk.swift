import SluiceModel

/// Values that "do not change much between timestamps" (seed 003): each tag's values take a small random
/// step from their previous ones.
public struct RandomWalk: Sendable {
    public let width: Int
    private var values: [Int: [Double]] = [:]

    public init(width: Int) {
        precondition(width >= 1 && width <= 64, "1–64 values per message")
        self.width = width
    }

    /// The next values of `tag`: a start around 100·tag on first use, then steps of at most ±0.5.
    public mutating func next(forTag tag: Int, using generator: inout SeededGenerator) -> [Double] {
        var current = values[tag] ?? (0..<width).map { Double(tag) * 100 + Double($0) }
        for index in current.indices {
            current[index] += generator.unit() - 0.5
        }
        values[tag] = current
        return current
    }
}
