/// The offsets a partition still holds: `low` is the first one retained, `high` the next one to be written.
public struct Watermarks: Sendable, Equatable, CustomStringConvertible {
    public var low: Int64
    public var high: Int64

    public init(low: Int64, high: Int64) {
        self.low = low
        self.high = high
    }

    public var description: String { "\(low)..<\(high)" }
}
