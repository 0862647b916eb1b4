import SluiceModel
import SluiceRuntime

/// One grid point in a job's cache.
enum GridSlot: Sendable {
    /// Not fetched yet, or its fetch failed: answered in `missing_timestamps`.
    case unfilled
    /// The as-of values at this point; nil when the series has no measurement at or before it.
    case filled(StampedPoint?)

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

    /// Values whose text is already rendered (a `StampedPoint`'s).
    fileprivate init(count: Int, json: [UInt8]) {
        self.count = count
        self.json = json
    }
}

/// A filled point as an answer writes it, `,[ms,[values…]]`, rendered once when its slot is filled: a
/// point's time is its grid index times the resolution, so the text never changes while the slot holds
/// it. Written point by point (bracket, time, comma, values, bracket), a cached 15-minute window took
/// five buffer writes a point, and writing the answer was ~45 % of the bridge's time (`perf`, closed
/// loop); now it is one. Only this text is kept, not the values' own besides: the cache's memory is
/// counted per point.
struct StampedPoint: Sendable, Equatable {
    /// How many values the point has.
    let count: Int
    /// Led by the comma that separates it from the point before; a series' first point skips it.
    let json: [UInt8]

    init(timeMilliseconds: Int64, values: PointValues) {
        count = values.count
        var json: [UInt8] = []
        json.reserveCapacity(values.json.count + 24)
        json.append(contentsOf: ",[\(timeMilliseconds),".utf8)
        json.append(contentsOf: values.json)
        json.append(UInt8(ascii: "]"))
        self.json = json
    }

    /// The values, as fetched: the text between the comma after the time and the closing bracket.
    var values: PointValues {
        PointValues(count: count, json: Array(json[valuesStart..<(json.count - 1)]))
    }

    /// The time the text carries, in ms, read back from the text: for checks (an assertion, the tests);
    /// answers never need it, a slot's time being its grid index.
    var timeMilliseconds: Int64? {
        Int64(String(decoding: json[2..<(valuesStart - 1)], as: UTF8.self))
    }

    /// The same values at another grid point (a value carried forward), stamped with that point's time.
    func moved(toMilliseconds time: Int64) -> StampedPoint {
        StampedPoint(timeMilliseconds: time, values: values)
    }

    /// Where the values' text begins: `,[`, the time, then a comma.
    private var valuesStart: Int {
        (json[2...].firstIndex(of: UInt8(ascii: ",")) ?? json.count - 2) + 1
    }
}
