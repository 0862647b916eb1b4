import SluiceModel
import SluiceRuntime

/// A validated `GET /api` request: which series, which window, how many samples, and what each holds.
public struct SampleRequest: Sendable, Equatable {
    public static let defaultSamples = 1000
    public static let sampleLimit = 1...10_000

    public var series: SeriesKey
    public var grid: SampleGrid
    /// `measured_at=true`: each sample also names the time of the measurement it carries, so clients can
    /// tell how fresh the data is. Off by default to keep seed 003's shape.
    public var includesMeasuredAt = false
    /// `fn=`: as-of samples (the default), or an aggregate per bucket.
    public var function: AggregateFunction = .asof
    /// `fill=`, for aggregates.
    public var fill: Fill = .null
    /// The buckets an aggregate is computed over; nil for `fn=asof`.
    public var buckets: BucketGrid?

    /// Reads and checks the query parameters.
    /// - Parameters:
    ///   - parameters: the URL query, by name.
    ///   - now: the current time in ns, which negative `start`/`end` count back from.
    ///   - minimumWindow: the shortest window accepted, in ns.
    /// - Throws: `APIError` 400 saying which parameter to fix.
    public static func parse(_ parameters: [String: String], now: Int64, minimumWindow: Int64) throws(APIError) -> SampleRequest {
        guard let written = parameters["tag"] else { throw bad("tag is required, e.g. /api?tag=cpu&start=-3600000000000") }
        let tag = SeriesName.canonicalize(written)
        if let problem = MeasurementLimits.problem(withTag: tag) { throw bad(problem) }
        let domain = parameters["domain"] ?? Measurement.defaultDomain
        if let problem = MeasurementLimits.problem(withDomain: domain) { throw bad(problem) }
        guard let rawStart = parameters["start"] else {
            throw bad("start is required: nanoseconds since the Unix epoch, or negative for that many ns before now")
        }
        let start = try resolve(try integer(rawStart, name: "start"), now: now, name: "start")
        let end = try parameters["end"].map { raw throws(APIError) in try resolve(try integer(raw, name: "end"), now: now, name: "end") } ?? now
        guard end > start else { throw bad("end (\(end)) must be after start (\(start))") }
        guard end - start >= minimumWindow else {
            throw bad("the window is \(end - start) ns; it must be at least \(minimumWindow) ns (\(minimumWindow / 60_000_000_000) minutes)")
        }
        var samples = defaultSamples
        if let raw = parameters["samples"] {
            guard let value = Int(raw), sampleLimit.contains(value) else {
                throw bad("samples must be a whole number from \(sampleLimit.lowerBound) to \(sampleLimit.upperBound)")
            }
            samples = value
        }
        var includesMeasuredAt = false
        if let raw = parameters["measured_at"] {
            guard let flag = ["true": true, "1": true, "false": false, "0": false][raw] else {
                throw bad("measured_at must be true or false")
            }
            includesMeasuredAt = flag
        }
        var request = SampleRequest(
            series: SeriesKey(domain: domain, tag: tag),
            grid: SampleGrid(start: start, end: end, count: samples),
            includesMeasuredAt: includesMeasuredAt
        )
        try request.readAggregation(parameters, maximumBuckets: samples)
        return request
    }

    /// `fn`, `step` and `fill`: each is checked against the others, so a parameter that would be
    /// ignored is refused instead.
    private mutating func readAggregation(_ parameters: [String: String], maximumBuckets: Int) throws(APIError) {
        if let raw = parameters["fn"] {
            guard let function = AggregateFunction(rawValue: raw) else {
                throw Self.bad("fn must be one of \(AggregateFunction.allCases.map(\.rawValue).joined(separator: ", ")); got '\(raw)'")
            }
            self.function = function
        }
        guard function != .asof else {
            if parameters["step"] != nil { throw Self.bad("step applies to aggregates (fn=avg, …), not to fn=asof") }
            if parameters["fill"] != nil { throw Self.bad("fill applies to aggregates (fn=avg, …), not to fn=asof") }
            return
        }
        if let raw = parameters["fill"] {
            guard let fill = Fill(rawValue: raw) else {
                throw Self.bad("fill must be one of \(Fill.allCases.map(\.rawValue).joined(separator: ", ")); got '\(raw)'")
            }
            self.fill = fill
        }
        guard let raw = parameters["step"] else {
            buckets = BucketGrid.choosing(start: grid.start, end: grid.end, maximumBuckets: maximumBuckets)
            return
        }
        guard let step = Int64(raw), step > 0 else { throw Self.bad("step must be a positive whole number of nanoseconds; got '\(raw)'") }
        let buckets = BucketGrid(start: grid.start, end: grid.end, step: step)
        guard buckets.count <= Self.sampleLimit.upperBound else {
            throw Self.bad(
                "step \(step) ns cuts this window into \(buckets.count) buckets; at most \(Self.sampleLimit.upperBound) are answered, so use a step of at least \((grid.end - grid.start) / Int64(Self.sampleLimit.upperBound - 1)) ns"
            )
        }
        self.buckets = buckets
    }

    private static func integer(_ raw: String, name: String) throws(APIError) -> Int64 {
        guard let value = Int64(raw) else { throw bad("\(name) must be an integer number of nanoseconds; got '\(raw)'") }
        return value
    }

    /// Negative times count back from now; the result must not fall before the epoch.
    private static func resolve(_ value: Int64, now: Int64, name: String) throws(APIError) -> Int64 {
        guard value < 0 else { return value }
        let (resolved, overflow) = now.addingReportingOverflow(value)
        guard !overflow, resolved >= 0 else { throw bad("\(name) reaches back before the Unix epoch") }
        return resolved
    }

    private static func bad(_ message: String) -> APIError {
        APIError(.badRequest, message)
    }
}
