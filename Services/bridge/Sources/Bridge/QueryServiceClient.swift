import AsyncHTTPClient
import Foundation
import NIOCore
import SluiceModel
import SluiceSigning

/// Fills grid points from the query service's `/api`, so the bridge and `/api` agree by construction: a
/// grid point at time `i × resolution` is `/api`'s sample at that time.
public struct QueryServiceClient: Sendable {
    /// `/api` answers at most this many samples per request.
    static let samplesPerRequest: Int64 = 10_000
    /// Up to this many points short of `/api`'s minimum window are fetched one request each, one index
    /// probe apiece; a single widened request would probe every point of the minimum window (600 at 1 s).
    static let pointByPointLimit: Int64 = 4
    static let requestTimeout: TimeAmount = .seconds(5)
    static let bodyLimit = 64 * 1024 * 1024

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let baseURL: String
    private let minimumWindowMilliseconds: Int64
    private let http: HTTPClient
    /// Sent as `Authorization` when the query service requires keys.
    private let authorization: String?

    public init(baseURL: String, minimumWindowMilliseconds: Int64, authorization: String? = nil, http: HTTPClient = .shared) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.minimumWindowMilliseconds = minimumWindowMilliseconds
        self.authorization = authorization
        self.http = http
    }

    /// The values at grid points `first…last`: as of each point (nil where the series has nothing that
    /// early), or with `function` the aggregate over the step ending at each point (nil where it holds
    /// no measurement).
    /// - Returns: nil when the query service has never stored this series.
    func values(of series: SeriesKey, function: AggregateFunction?, first: Int64, last: Int64, resolutionMilliseconds resolution: Int64)
        async throws -> [PointValues?]?
    {
        precondition(first <= last && first >= 1, "a fill needs a non-empty range of grid points")
        // /api refuses windows under its minimum: a short chunk asks for a longer window ending at the same
        // point, and the extra points at its front are dropped.
        let minimumPoints = max(1, (minimumWindowMilliseconds + resolution - 1) / resolution)
        let count = last - first + 1
        let pointWindow = max(minimumWindowMilliseconds, resolution)
        var values: [PointValues?] = []
        values.reserveCapacity(Int(count))
        if function == nil, count < minimumPoints, count <= Self.pointByPointLimit, first * resolution >= pointWindow {
            // A refresh of the newest few points, the steady state: one sample per request, at the end of a
            // window of the minimum length.
            for index in first...last {
                let end = index * resolution * 1_000_000
                let grid = SampleGrid(start: end - pointWindow * 1_000_000, end: end, count: 1)
                guard let point = try await fetch(series, grid: grid) else { return nil }
                values.append(contentsOf: point)
            }
            return values
        }
        var chunkFirst = first
        while chunkFirst <= last {
            let chunkLast = min(last, chunkFirst + Self.samplesPerRequest - 1)
            let askedFirst = max(1, min(chunkFirst, chunkLast - minimumPoints + 1))
            let nanoseconds = resolution * 1_000_000
            let (start, end) = ((askedFirst - 1) * nanoseconds, chunkLast * nanoseconds)
            let fetched =
                if let function {
                    // The buckets [t − step, t) of /api, labelled by their starts: grid point t is the bucket before it.
                    try await fetchBuckets(series, function: function, start: start, end: end, step: nanoseconds)
                } else {
                    try await fetch(series, grid: SampleGrid(start: start, end: end, count: Int(chunkLast - askedFirst + 1)))
                }
            guard let chunk = fetched else { return nil }
            values.append(contentsOf: chunk[Int(chunkFirst - askedFirst)...])
            chunkFirst = chunkLast + 1
        }
        return values
    }

    /// The time of the series' newest measurement, whenever it is (past or future); `.some(nil)` when it
    /// has none, nil when the query service has never stored the series. One index probe: the as-of
    /// sample at the end of time.
    func newestMeasurement(of series: SeriesKey) async throws -> Int64?? {
        let end = Int64.max
        let grid = SampleGrid(start: end - max(minimumWindowMilliseconds, 1) * 1_000_000, end: end, count: 1)
        guard let samples = try await fetchSamples(series, grid: grid, measuredAt: true) else { return nil }
        return .some(samples.first?.measuredAt)
    }

    /// The query service's `GET /series` with `query` (a URL query, encoded as it came), read with the
    /// bridge's own credentials: its status and JSON body, as they are.
    func series(query: String) async throws -> (status: UInt, body: ByteBuffer) {
        do {
            var request = HTTPClientRequest(url: "\(baseURL)/series?\(query)")
            if let authorization { request.headers.add(name: "Authorization", value: authorization) }
            let response = try await http.execute(request, timeout: Self.requestTimeout)
            return (response.status.code, try await response.body.collect(upTo: Self.bodyLimit))
        } catch {
            throw Failure(description: "the query service at \(baseURL) did not answer: \(error)")
        }
    }

    private struct APIBody: Decodable {
        struct Sample: Decodable {
            var time: Int64
            var measuredAt: Int64?
            var values: [Double]?
        }
        var samples: [Sample]
    }

    private struct BucketsBody: Decodable {
        struct Bucket: Decodable {
            var time: Int64
            var values: [Double?]?
        }
        var samples: [Bucket]
    }

    /// `/api`'s `function` per bucket `[start + k × step, start + (k + 1) × step)` up to `end`, empty
    /// buckets null.
    private func fetchBuckets(_ series: SeriesKey, function: AggregateFunction, start: Int64, end: Int64, step: Int64) async throws -> [PointValues?]? {
        let query = "start=\(start)&end=\(end)&fn=\(function.rawValue)&step=\(step)&fill=null"
        guard let decoded: BucketsBody = try await get(series, query: query) else { return nil }
        try Self.check(decoded.samples.map(\.time), "bucket", expected: (0..<(end - start) / step).map { start + $0 * step })
        return decoded.samples.map { $0.values.map(PointValues.init) }
    }

    /// `/api`'s values on `grid`.
    private func fetch(_ series: SeriesKey, grid: SampleGrid) async throws -> [PointValues?]? {
        try await fetchSamples(series, grid: grid, measuredAt: false).map { samples in samples.map { $0.values.map(PointValues.init) } }
    }

    /// `/api`'s samples on `grid`, checked to stand exactly where the grid says.
    private func fetchSamples(_ series: SeriesKey, grid: SampleGrid, measuredAt: Bool) async throws -> [APIBody.Sample]? {
        let query = "start=\(grid.start)&end=\(grid.end)&samples=\(grid.count)" + (measuredAt ? "&measured_at=true" : "")
        guard let decoded: APIBody = try await get(series, query: query) else { return nil }
        try Self.check(decoded.samples.map(\.time), "sample", expected: (1...grid.count).map(grid.time(ofSample:)))
        return decoded.samples
    }

    /// `/api` answered `times` for the `expected` ones: as many, each where it was asked for.
    private static func check(_ times: [Int64], _ what: String, expected: [Int64]) throws {
        guard times.count == expected.count else {
            throw Failure(description: "the query service returned \(times.count) \(what)s; \(expected.count) were asked for")
        }
        for (offset, (time, wanted)) in zip(times, expected).enumerated() where time != wanted {
            throw Failure(description: "the query service's \(what) \(offset + 1) is at \(time), not at \(wanted)")
        }
    }

    /// `/api` for the series with `query` after its domain and tag, decoded; nil on 404 (never stored).
    private func get<Body: Decodable>(_ series: SeriesKey, query: String) async throws -> Body? {
        let url = "\(baseURL)/api?domain=\(CanonicalQuery.percentEncode(series.domain))&tag=\(CanonicalQuery.percentEncode(series.tag))&" + query
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            var request = HTTPClientRequest(url: url)
            if let authorization { request.headers.add(name: "Authorization", value: authorization) }
            response = try await http.execute(request, timeout: Self.requestTimeout)
            body = try await response.body.collect(upTo: Self.bodyLimit)
        } catch {
            throw Failure(description: "the query service at \(baseURL) did not answer: \(error)")
        }
        switch response.status.code {
        case 200: break
        case 404: return nil
        default:
            throw Failure(description: "the query service answered \(response.status.code): \(String(buffer: body).prefix(300))")
        }
        do {
            return try JSONDecoder().decode(Body.self, from: body)
        } catch {
            throw Failure(description: "the query service's answer could not be read: \(error)")
        }
    }
}
