import SluiceModel

/// Where a backing job gets the values of its grid points. In the service it is the query service
/// (`QueryServiceClient`), so the bridge and `/api` agree by construction; the job's cache logic is
/// unit-tested against a series held in memory.
protocol GridSource: Sendable {
    /// The values at grid points `first…last`: as of each point when `function` is nil (nil where the
    /// series has nothing that early), else the aggregate over the step ending at each point (nil where
    /// the step holds no measurement); nil when the series was never stored.
    func values(of series: SeriesKey, function: AggregateFunction?, first: Int64, last: Int64, resolutionMilliseconds: Int64) async throws
        -> [PointValues?]?
    /// The time of the series' newest measurement (`.some(nil)` when it has none); nil when the series
    /// was never stored.
    func newestMeasurement(of series: SeriesKey) async throws -> Int64??
}

extension QueryServiceClient: GridSource {}
