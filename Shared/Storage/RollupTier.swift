import SluiceModel

/// A rollup tier: one `BucketState` per series and bucket of `step`, in table `table`, kept by the
/// writer and read by `/api` when a requested step is a multiple of `step`.
public struct RollupTier: Sendable, Equatable {
    public var table: String
    public var step: Int64
    /// How `/api` names the tier in an answer's `source`.
    public var name: String

    /// A bucket closes (gets its row) once its series has a point this far past the bucket's end; until
    /// then a point up to this late still lands in it without a recomputation.
    public static let closingGrace: Int64 = 5_000_000_000

    public static let minute = RollupTier(table: "rollups_1m", step: 60_000_000_000, name: "1m")
    public static let hour = RollupTier(table: "rollups_1h", step: 3_600_000_000_000, name: "1h")
    /// Finest first: the hour tier is folded from the minute tier.
    public static let all = [minute, hour]

    public func bucket(of time: Int64) -> Int64 { time - time % step }

    /// The first bucket that starts at or after `time`: where the tier's rows wholly after it begin.
    public func firstBucket(from time: Int64) -> Int64 {
        let start = bucket(of: time)
        return start == time ? start : start + step
    }

    /// The coarsest tier whose buckets tile a grid of `step` starting at `first`: whose step divides both
    /// (whole minutes from 10:37 are minute buckets, not hour ones), or nil (raw rows).
    public static func coarsest(dividing step: Int64, from first: Int64) -> RollupTier? {
        all.last { step % $0.step == 0 && first % $0.step == 0 }
    }
}
