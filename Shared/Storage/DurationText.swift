import Foundation

/// Durations as operators write them in settings: a whole number and a unit, `30s`, `90m`, `36h`, `7d`, `2w`.
enum DurationText {
    static let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]

    /// Nanoseconds, or nil when `text` is not a positive whole number of one of the units, or says more
    /// than a century.
    static func nanoseconds(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = trimmed.last, let seconds = units[unit], let count = Int64(trimmed.dropLast()), count > 0,
            count <= 100 * 366 * 86_400 / seconds
        else { return nil }
        return count * seconds * 1_000_000_000
    }

    /// The shortest form `nanoseconds` reads back as `period`.
    static func format(_ period: Int64) -> String {
        let seconds = period / 1_000_000_000
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
