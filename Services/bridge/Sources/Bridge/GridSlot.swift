import SluiceModel
import SluiceRuntime

/// One grid point in a job's cache.
enum GridSlot: Sendable {
    /// Not fetched yet, or its fetch failed: answered in `missing_timestamps`.
    case unfilled
    /// The as-of values at this point; nil when the series has no measurement at or before it.
    case filled(PointValues?)

    var isFilled: Bool {
        if case .filled = self { true } else { false }
    }
}

/// A point's values, kept as the JSON array an answer carries.
///
/// Rendering a double as text costs about 100 ns; a 15-minute window at 1 s holds 9,000 of them, so
/// rendering at answer time alone would take a millisecond. Rendered once when fetched, every answer
/// only copies bytes.
struct PointValues: Sendable, Equatable {
    let count: Int
    let json: [UInt8]

    init(_ values: [Double]) {
        count = values.count
        json = Array(("[" + values.map(JSONText.number).joined(separator: ",") + "]").utf8)
    }

    /// An aggregate's values: an index without a value in the step is `null`.
    init(_ values: [Double?]) {
        count = values.count
        json = Array(("[" + values.map { $0.map(JSONText.number) ?? "null" }.joined(separator: ",") + "]").utf8)
    }
}
