import SluiceModel

/// The grid step of a window, from a fixed ladder.
///
/// Rounding every window up to a ladder step is what lets requests share work: "the last 15 minutes"
/// asked at 10:00:03 and again at 10:00:08 both land on the 1-second grid, so the second reuses every
/// point the first filled, and both share one backing job.
public enum Resolution {
    public static let maximumPoints: Int64 = 1000

    /// The resolution for a window: at least the hint, and coarse enough for at most about 1000 points, from
    /// the step ladder `/api` uses too (`StepLadder`).
    public static func milliseconds(window: Int64, hint: Int64?) -> Int64 {
        let wanted = max(hint ?? 0, (window + maximumPoints - 1) / maximumPoints, 1)
        return StepLadder.step(atLeast: wanted, unitsPerSecond: 1000)
    }

    /// The index of the first grid point at or after `time`, in any unit; grid point i stands at i × step.
    public static func firstPoint(atOrAfter time: Int64, step: Int64) -> Int64 {
        let (quotient, remainder) = time.quotientAndRemainder(dividingBy: step)
        return remainder > 0 ? quotient + 1 : quotient
    }
}
