import SluiceRuntime

/// KairosDB's `{"value": n, "unit": "minutes"}` durations, in nanoseconds.
///
/// Months and years are calendar units in KairosDB; here a relative time in months or years counts 30
/// and 365 days (documented), and sampling refuses them rather than bucket by the wrong lengths.
struct KairosDuration: Decodable, Sendable, Equatable {
    var value: Int64
    var unit: String

    init(value: Int64, unit: String) {
        self.value = value
        self.unit = unit
    }

    private enum Keys: String, CodingKey { case value, unit }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        // KairosDB's own clients send the value as a number or as a string of digits.
        if let number = try? container.decode(Int64.self, forKey: .value) {
            value = number
        } else if let text = try? container.decode(String.self, forKey: .value), let number = Int64(text) {
            value = number
        } else {
            throw DecodingError.dataCorruptedError(forKey: .value, in: container, debugDescription: "value must be a whole number")
        }
        unit = try container.decode(String.self, forKey: .unit)
    }

    static let nanosecondsPerUnit: [String: Int64] = [
        "milliseconds": 1_000_000, "seconds": 1_000_000_000, "minutes": 60_000_000_000, "hours": 3_600_000_000_000,
        "days": 86_400_000_000_000, "weeks": 604_800_000_000_000,
    ]
    static let calendarUnits: [String: Int64] = ["months": 30 * 86_400_000_000_000, "years": 365 * 86_400_000_000_000]

    /// The length in ns, or why it has none. - Parameter calendar: whether months and years are allowed.
    func nanoseconds(allowingCalendarUnits calendar: Bool) -> Result<Int64, KairosError> {
        let unitName = unit.lowercased()
        guard let per = Self.nanosecondsPerUnit[unitName] ?? (calendar ? Self.calendarUnits[unitName] : nil) else {
            let known = Self.nanosecondsPerUnit.keys.sorted() + (calendar ? Self.calendarUnits.keys.sorted() : [])
            return .failure(KairosError("unit \(unit.debugDescription) is not one of \(known.joined(separator: ", "))"))
        }
        guard value > 0 || (calendar && value >= 0) else { return .failure(KairosError("value must be positive")) }
        let (product, overflow) = value.multipliedReportingOverflow(by: per)
        guard !overflow else { return .failure(KairosError("\(value) \(unit) is too long")) }
        return .success(product)
    }
}
