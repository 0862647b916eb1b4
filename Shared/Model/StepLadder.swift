/// The steps Sluice picks when a caller gives none — `/api`'s buckets and the bridge's grid alike, so a
/// dashboard and the API it sits on agree on where points fall: 1 s, 5 s, 10 s, 30 s, 1 min, 5 min,
/// 10 min, 30 min, 1 h, 6 h, 1 d; past a day, whole days. Every step from a minute on is a whole number of
/// minutes, so the rollup tiers can answer it.
public enum StepLadder {
    public static let seconds: [Int64] = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 21_600, 86_400]
    static let daySeconds: Int64 = 86_400

    /// The ladder's steps, in units of which a second holds `unitsPerSecond` (1000: ms, 10⁹: ns).
    public static func steps(unitsPerSecond: Int64) -> [Int64] {
        seconds.map { $0 * unitsPerSecond }
    }

    /// The smallest step that is at least `wanted` (never below the ladder's first): a ladder step, or past
    /// a day the smallest whole number of days.
    public static func step(atLeast wanted: Int64, unitsPerSecond: Int64) -> Int64 {
        if let step = steps(unitsPerSecond: unitsPerSecond).first(where: { $0 >= wanted }) { return step }
        let day = daySeconds * unitsPerSecond
        let days = wanted / day + (wanted % day == 0 ? 0 : 1)
        return days <= Int64.max / day ? days * day : Int64.max / day * day
    }
}
