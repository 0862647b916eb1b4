import Foundation
import SluiceRuntime

/// The body of KairosDB's `POST /api/v1/datapoints/query`, the subset Sluice answers: absolute or relative
/// start and end, and per metric a name, tag filters, grouping by tags, range aggregators and limit/order.
struct KairosQueryRequest: Decodable, Sendable {
    var startAbsolute: Int64?
    var startRelative: KairosDuration?
    var endAbsolute: Int64?
    var endRelative: KairosDuration?
    var metrics: [Metric]

    private enum Keys: String, CodingKey {
        case startAbsolute = "start_absolute"
        case startRelative = "start_relative"
        case endAbsolute = "end_absolute"
        case endRelative = "end_relative"
        case metrics
    }

    struct Metric: Decodable, Sendable {
        var name: String
        /// Per tag name, the values a series may have (any of them).
        var tags: [String: [String]]
        var groupBy: [GroupBy]
        var aggregators: [Aggregator]
        var limit: Int?
        var descending: Bool

        private enum Keys: String, CodingKey {
            case name, tags
            case groupBy = "group_by"
            case aggregators, limit, order
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            name = try container.decode(String.self, forKey: .name)
            // KairosDB takes a tag's values as a list or as one string.
            var tags: [String: [String]] = [:]
            if container.contains(.tags) {
                let nested = try container.nestedContainer(keyedBy: AnyKey.self, forKey: .tags)
                for key in nested.allKeys {
                    if let values = try? nested.decode([String].self, forKey: key) {
                        tags[key.stringValue] = values
                    } else {
                        tags[key.stringValue] = [try nested.decode(String.self, forKey: key)]
                    }
                }
            }
            self.tags = tags
            groupBy = try container.decodeIfPresent([GroupBy].self, forKey: .groupBy) ?? []
            aggregators = try container.decodeIfPresent([Aggregator].self, forKey: .aggregators) ?? []
            limit = try container.decodeIfPresent(Int.self, forKey: .limit)
            if let limit, limit < 0 {
                throw DecodingError.dataCorruptedError(forKey: .limit, in: container, debugDescription: "limit must not be negative")
            }
            let order = try container.decodeIfPresent(String.self, forKey: .order) ?? "asc"
            guard order == "asc" || order == "desc" else {
                throw DecodingError.dataCorruptedError(forKey: .order, in: container, debugDescription: "order must be asc or desc")
            }
            descending = order == "desc"
        }
    }

    struct GroupBy: Decodable, Sendable {
        var name: String
        var tags: [String]
    }

    struct Aggregator: Decodable, Sendable {
        var name: String
        var sampling: KairosDuration?
        /// `rate`'s shorthand for a sampling of one unit (`"unit": "seconds"`).
        var unit: String?
        /// Ranges start at the top of the day (sampling in seconds to days), the second (milliseconds) or
        /// the week, as KairosDB aligns them; false: at the query's start. KairosDB's default is true.
        var alignSampling: Bool
        /// Which time an aggregated point carries: KairosDB's default is its range's first point's.
        var stamp: KairosEvaluator.Stamp

        private enum Keys: String, CodingKey {
            case name, sampling, unit
            case alignSampling = "align_sampling"
            case alignStartTime = "align_start_time"
            case alignEndTime = "align_end_time"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            name = try container.decode(String.self, forKey: .name)
            sampling = try container.decodeIfPresent(KairosDuration.self, forKey: .sampling)
            unit = try container.decodeIfPresent(String.self, forKey: .unit)
            alignSampling = try container.decodeIfPresent(Bool.self, forKey: .alignSampling) ?? true
            // KairosDB calls the three alignments mutually exclusive; when both stamps are set, its code
            // stamps the range's start, and so does this.
            stamp =
                if try container.decodeIfPresent(Bool.self, forKey: .alignStartTime) ?? false {
                    .rangeStart
                } else if try container.decodeIfPresent(Bool.self, forKey: .alignEndTime) ?? false {
                    .rangeEnd
                } else {
                    .firstPoint
                }
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        startAbsolute = try container.decodeIfPresent(Int64.self, forKey: .startAbsolute)
        startRelative = try container.decodeIfPresent(KairosDuration.self, forKey: .startRelative)
        endAbsolute = try container.decodeIfPresent(Int64.self, forKey: .endAbsolute)
        endRelative = try container.decodeIfPresent(KairosDuration.self, forKey: .endRelative)
        metrics = try container.decode([Metric].self, forKey: .metrics)
    }

    /// The window in ns, `[start, end)`: KairosDB's end is inclusive to the millisecond.
    func window(nowNanoseconds now: Int64) -> Result<(start: Int64, end: Int64), KairosError> {
        let start: Int64
        switch Self.time(absolute: startAbsolute, relative: startRelative, name: "start", now: now) {
        case .success(let value?): start = max(0, value)
        case .success(nil): return .failure(KairosError("start_absolute or start_relative is required"))
        case .failure(let error): return .failure(error)
        }
        let end: Int64
        switch Self.time(absolute: endAbsolute, relative: endRelative, name: "end", now: now) {
        case .success(let value): end = value ?? now
        case .failure(let error): return .failure(error)
        }
        // Inclusive to the millisecond: every nanosecond of the end's millisecond counts.
        let exclusiveEnd = end > Int64.max - 1_000_000 ? Int64.max : end / 1_000_000 * 1_000_000 + 1_000_000
        guard start < exclusiveEnd else { return .failure(KairosError("start must not be after end")) }
        return .success((start, exclusiveEnd))
    }

    /// One end of the window in ns: `<name>_absolute` (ms) or `<name>_relative` (before now), or nil for neither.
    static func time(absolute: Int64?, relative: KairosDuration?, name: String, now: Int64) -> Result<Int64?, KairosError> {
        switch (absolute, relative) {
        case (let milliseconds?, nil):
            let (value, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
            guard !overflow, milliseconds >= 0 else {
                return .failure(KairosError("\(name)_absolute must be milliseconds since 1970 that fit in int64 nanoseconds"))
            }
            return .success(value)
        case (nil, let relative?):
            return relative.nanoseconds(allowingCalendarUnits: true).map { now - $0 }.mapError { $0.prefixed("\(name)_relative") }
        case (nil, nil):
            return .success(nil)
        default:
            return .failure(KairosError("give \(name)_absolute or \(name)_relative, not both"))
        }
    }
}
