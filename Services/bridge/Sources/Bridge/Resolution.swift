/// The grid step of a window, from a fixed ladder.
///
/// Rounding every window up to a ladder step is what lets requests share work: "the last 15 minutes"
/// asked at 10:00:03 and again at 10:00:08 both land on the 1-second grid, so the second reuses every
/// point the first filled, and both share one backing job.
public enum Resolution {
    /// 1 s, 5 s, 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 6 h, 1 d; past a day, whole days.
    public static let ladderMilliseconds: [Int64] = [
        1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 21_600_000, 86_400_000,
    ]
    public static let maximumPoints: Int64 = 1000

    /// The resolution for a window: at least the hint, and coarse enough for at most about 1000 points.
    public static func milliseconds(window: Int64, hint: Int64?) -> Int64 {
        let wanted = max(hint ?? 0, (window + maximumPoints - 1) / maximumPoints, 1)
        if let step = ladderMilliseconds.first(where: { $0 >= wanted }) { return step }
        let day: Int64 = 86_400_000
        return (wanted + day - 1) / day * day
    }

    /// The index of the first grid point at or after `time`, in any unit; grid point i stands at i × step.
    public static func firstPoint(atOrAfter time: Int64, step: Int64) -> Int64 {
        let (quotient, remainder) = time.quotientAndRemainder(dividingBy: step)
        return remainder > 0 ? quotient + 1 : quotient
    }
}
