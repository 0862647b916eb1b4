import SluiceModel
import SluiceRuntime

/// A validated `GET /api` request: which series, which window, how many samples, and what each holds.
public struct SampleRequest: Sendable, Equatable {
    public static let defaultSamples = 1000
    public static let sampleLimit = 1...10_000

    public var series: SeriesKey
    /// The window `[start, end)`, in ns.
    public var start: Int64
    public var end: Int64
    /// `measured_at=true`: each sample also names the time of the measurement it carries, so clients can
    /// tell how fresh the data is. Off by default to keep seed 003's shape.
    public var includesMeasuredAt = false
    public var reading: Reading

    /// What each sample holds: `fn=asof` (the default) or an aggregate, each with the one grid it uses.
    public enum Reading: Sendable, Equatable {
        /// The value as of each of the grid's sample times: seed 003's `/api`.
        case asOf(SampleGrid)
        /// `fn=avg`, …: one value per bucket.
        case aggregate(Aggregate)
    }

    /// An aggregate per bucket, and how a bucket without measurements is answered (`fill`).
    public struct Aggregate: Sendable, Equatable {
        public var function: AggregateFunction
        public var buckets: BucketGrid
        public var fill: Fill
    }

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
        return SampleRequest(
            series: SeriesKey(domain: domain, tag: tag), start: start, end: end, includesMeasuredAt: includesMeasuredAt,
            reading: try reading(parameters, start: start, end: end, samples: samples)
        )
    }

    /// `fn`, `step` and `fill`: each is checked against the others, so a parameter that would be
    /// ignored is refused instead.
    private static func reading(_ parameters: [String: String], start: Int64, end: Int64, samples: Int) throws(APIError) -> Reading {
        let chosen: AggregateFunction?
        switch AggregateFunction.reading(parameters["fn"] ?? AggregateFunction.asOfName) {
        case .success(let function): chosen = function
        case .failure(let unknown): throw bad(unknown.description)
        }
        guard let function = chosen else {
            if parameters["step"] != nil { throw bad("step applies to aggregates (fn=avg, …), not to fn=asof") }
            if parameters["fill"] != nil { throw bad("fill applies to aggregates (fn=avg, …), not to fn=asof") }
            return .asOf(SampleGrid(start: start, end: end, count: samples))
        }
        var fill = Fill.null
        if let raw = parameters["fill"] {
            guard let named = Fill(rawValue: raw) else {
                throw bad("fill must be one of \(Fill.allCases.map(\.rawValue).joined(separator: ", ")); got '\(raw)'")
            }
            fill = named
        }
        guard let raw = parameters["step"] else {
            return .aggregate(Aggregate(function: function, buckets: BucketGrid.choosing(start: start, end: end, maximumBuckets: samples), fill: fill))
        }
        guard let step = Int64(raw), step > 0 else { throw bad("step must be a positive whole number of nanoseconds; got '\(raw)'") }
        let buckets = BucketGrid(start: start, end: end, step: step)
        guard buckets.count <= sampleLimit.upperBound else {
            throw bad(
                "step \(step) ns cuts this window into \(buckets.count) buckets; at most \(sampleLimit.upperBound) are answered, so use a step of at least \((end - start) / Int64(sampleLimit.upperBound - 1)) ns"
            )
        }
        return .aggregate(Aggregate(function: function, buckets: buckets, fill: fill))
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
