import Foundation
import SluiceModel
import SluiceRuntime

/// A validated window request (seed 000's shape, with tags instead of a SignalFlow program), aligned to
/// its grid.
public struct WindowRequest: Sendable, Equatable {
    public static let maximumSeries = 100

    public var series: [SeriesKey]
    /// The window as asked, after resolving times relative to now, in ms since the epoch.
    public var startMilliseconds: Int64
    public var endMilliseconds: Int64
    public var resolutionMilliseconds: Int64
    /// Grid points `firstIndex…lastIndex` (times `index × resolution`) lie in the window and not in the future;
    /// empty when `lastIndex < firstIndex`.
    public var firstIndex: Int64
    public var lastIndex: Int64
    /// `fn`: nil (`asof`, the default) for the value as of each grid point t; otherwise the aggregate over
    /// the step that ends at t, `/api`'s bucket `[t − resolution, t)`.
    public var function: AggregateFunction?

    /// The body as sent; every field optional so that what is missing can be named.
    private struct Body: Decodable {
        var tag: String?
        var tags: [String]?
        var domain: String?
        var start_time_ms: Int64?
        var end_time_ms: Int64?
        var resolution_hint_ms: Int64?
        var fn: String?
    }

    /// Reads and checks a request body.
    /// - Parameter now: the current time in ms, which negative times count back from.
    /// - Throws: `APIError` 400 saying what to fix.
    public static func parse(_ body: Data, nowMilliseconds now: Int64) throws(APIError) -> WindowRequest {
        let fields: Body
        do {
            fields = try JSONDecoder().decode(Body.self, from: body)
        } catch {
            throw bad("the body must be a JSON object like {\"tag\": \"cpu\", \"start_time_ms\": -900000}: \(describe(error))")
        }
        let tags: [String]
        // A labelled series in any key order is one series: ask for it by its one text form.
        switch (fields.tag, fields.tags) {
        case (let tag?, nil): tags = [SeriesName.canonicalize(tag)]
        case (nil, let many?): tags = many.map(SeriesName.canonicalize)
        case (nil, nil): throw bad("name the series with \"tag\" (one) or \"tags\" (a list)")
        case (_?, _?): throw bad("give either \"tag\" or \"tags\", not both")
        }
        guard (1...maximumSeries).contains(tags.count) else { throw bad("\"tags\" must list 1 to \(maximumSeries) tags") }
        // By bytes, as everywhere: canonically equivalent spellings are different series.
        guard Set(tags.map { Array($0.utf8) }).count == tags.count else { throw bad("\"tags\" lists a tag twice") }
        for tag in tags {
            if let problem = MeasurementLimits.problem(withTag: tag) { throw bad(problem) }
        }
        let domain = fields.domain ?? Measurement.defaultDomain
        if let problem = MeasurementLimits.problem(withDomain: domain) { throw bad(problem) }
        guard let rawStart = fields.start_time_ms else {
            throw bad("start_time_ms is required: ms since the Unix epoch, or negative for that many ms before now")
        }
        let start = try resolve(rawStart, now: now, name: "start_time_ms")
        let end = try fields.end_time_ms.map { raw throws(APIError) in try resolve(raw, now: now, name: "end_time_ms") } ?? now
        guard end > start else { throw bad("end_time_ms (\(end)) must be after start_time_ms (\(start))") }
        if let hint = fields.resolution_hint_ms, hint <= 0 || hint > 366 * 86_400_000 {
            throw bad("resolution_hint_ms must be from 1 to \(366 * 86_400_000) (a year)")
        }
        let resolution = Resolution.milliseconds(window: end - start, hint: fields.resolution_hint_ms)
        let function: AggregateFunction?
        switch AggregateFunction.reading(fields.fn ?? AggregateFunction.asOfName) {
        case .success(let chosen): function = chosen
        case .failure(let unknown): throw bad(unknown.description)
        }
        return WindowRequest(
            series: tags.map { SeriesKey(domain: domain, tag: $0) },
            startMilliseconds: start,
            endMilliseconds: end,
            resolutionMilliseconds: resolution,
            // Index 0 (the epoch itself) is left out: /api cannot sample a window that begins before it.
            firstIndex: max(1, Resolution.firstPoint(atOrAfter: start, step: resolution)),
            lastIndex: min(end, now) / resolution,
            function: function
        )
    }

    /// Negative times count back from now; the result must not fall before the epoch, nor so late that
    /// nanoseconds overflow.
    private static func resolve(_ value: Int64, now: Int64, name: String) throws(APIError) -> Int64 {
        let resolved = value < 0 ? now + value : value  // now ≥ 0, so adding a negative cannot overflow
        guard resolved >= 0 else { throw bad("\(name) reaches back before the Unix epoch") }
        guard resolved <= Int64.max / 1_000_000 else { throw bad("\(name) is too far in the future") }
        return resolved
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "it is not valid JSON" }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return field.isEmpty ? "it is not a JSON object" : "\(field) has the wrong type"
        case .dataCorrupted(let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return field.isEmpty ? "it is not valid JSON" : "\(field) is not valid"
        case .keyNotFound(let key, _):
            return "\(key.stringValue) is missing"
        @unknown default:
            return "it could not be read"
        }
    }

    private static func bad(_ message: String) -> APIError {
        APIError(.badRequest, message)
    }
}
