import SluiceModel

/// Where a backing job gets the values of its grid points. In the service it is the query service
/// (`QueryServiceClient`), so the bridge and `/api` agree by construction; the job's cache logic is
/// unit-tested against a series held in memory.
protocol GridSource: Sendable {
    /// The as-of values at grid points `first…last` (nil where the series has nothing that early);
    /// nil when the series was never stored.
    func values(of series: SeriesKey, first: Int64, last: Int64, resolutionMilliseconds: Int64) async throws -> [PointValues?]?
    /// The time of the series' newest measurement (`.some(nil)` when it has none); nil when the series
    /// was never stored.
    func newestMeasurement(of series: SeriesKey) async throws -> Int64??
}

extension QueryServiceClient: GridSource {}
