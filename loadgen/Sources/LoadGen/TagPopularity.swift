import Foundation

/// Seed 003's tag popularity: tag 1 gets a share `p` (1%) of all messages, tag 2 a share `p` of the rest,
/// and so on — a geometric distribution over tags 1…N, whatever is left past tag N going to tag N.
public struct TagPopularity: Sendable {
    public let tagCount: Int
    public let share: Double
    private let logOfRest: Double

    public init(tagCount: Int, share: Double = 0.01) {
        precondition(tagCount >= 1 && share > 0 && share < 1, "need at least one tag and a share in (0, 1)")
        self.tagCount = tagCount
        self.share = share
        logOfRest = log(1 - share)
    }

    /// The tag number (1…N) for a uniform draw `u` in [0, 1), by inverting the geometric distribution.
    public func tag(forUniform u: Double) -> Int {
        let survivor = max(1 - u, .leastNormalMagnitude)  // in (0, 1]
        let index = Int(min(floor(log(survivor) / logOfRest), Double(tagCount - 1)))
        return index + 1
    }

    /// The expected fraction of messages for tag `n`.
    public func expectedShare(ofTag n: Int) -> Double {
        n == tagCount ? pow(1 - share, Double(n - 1)) : share * pow(1 - share, Double(n - 1))
    }

    /// The name producers send for tag `n`: short (seed 003 says under 20 characters) and sortable.
    public static func name(ofTag n: Int) -> String {
        let digits = String(n)
        return "tag-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }
}
