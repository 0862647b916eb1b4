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

    /// The as-of values at grid points `first…last` (nil where the series has nothing that early).
    /// - Returns: nil when the query service has never stored this series.
    func values(of series: SeriesKey, first: Int64, last: Int64, resolutionMilliseconds resolution: Int64) async throws -> [PointValues?]? {
        precondition(first <= last && first >= 1, "a fill needs a non-empty range of grid points")
        // /api refuses windows under its minimum: a short chunk asks for a longer window ending at the same
        // point, and the extra points at its front are dropped.
        let minimumPoints = max(1, (minimumWindowMilliseconds + resolution - 1) / resolution)
        let count = last - first + 1
        let pointWindow = max(minimumWindowMilliseconds, resolution)
        var values: [PointValues?] = []
        values.reserveCapacity(Int(count))
        if count < minimumPoints, count <= Self.pointByPointLimit, first * resolution >= pointWindow {
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
            let grid = SampleGrid(start: (askedFirst - 1) * nanoseconds, end: chunkLast * nanoseconds, count: Int(chunkLast - askedFirst + 1))
            guard let chunk = try await fetch(series, grid: grid) else { return nil }
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

    /// `/api`'s values on `grid`.
    private func fetch(_ series: SeriesKey, grid: SampleGrid) async throws -> [PointValues?]? {
        try await fetchSamples(series, grid: grid, measuredAt: false).map { samples in samples.map { $0.values.map(PointValues.init) } }
    }

    /// `/api`'s samples on `grid`, checked to stand exactly where the grid says.
    private func fetchSamples(_ series: SeriesKey, grid: SampleGrid, measuredAt: Bool) async throws -> [APIBody.Sample]? {
        let url =
            "\(baseURL)/api?domain=\(CanonicalQuery.percentEncode(series.domain))&tag=\(CanonicalQuery.percentEncode(series.tag))&start=\(grid.start)&end=\(grid.end)&samples=\(grid.count)"
            + (measuredAt ? "&measured_at=true" : "")
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
        let decoded: APIBody
        do {
            decoded = try JSONDecoder().decode(APIBody.self, from: body)
        } catch {
            throw Failure(description: "the query service's answer could not be read: \(error)")
        }
        guard decoded.samples.count == grid.count else {
            throw Failure(description: "the query service returned \(decoded.samples.count) samples; \(grid.count) were asked for")
        }
        for (offset, sample) in decoded.samples.enumerated() where sample.time != grid.time(ofSample: offset + 1) {
            throw Failure(description: "the query service's sample \(offset + 1) is at \(sample.time), not on the grid at \(grid.time(ofSample: offset + 1))")
        }
        return decoded.samples
    }
}
