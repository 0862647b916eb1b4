import Logging
import PostgresNIO
import SluiceModel

/// Computes aggregates per bucket from the raw rows: one range scan of the window in time order (plus,
/// for `rate`, the point just before it), folded into `BucketState`s in the service.
///
/// Its cost grows with the rows in the window; the rollup tiers (issue 14) are what make long windows of
/// busy series cheap.
public struct AggregateReader: Sendable {
    private let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    public func buckets(seriesID: Int64, grid: BucketGrid, function: AggregateFunction, logger: Logger) async throws -> [[Double?]?] {
        var aggregator = BucketAggregator(grid: grid)
        if function == .rate {
            // The point before the window counts the first one's increase.
            let before = try await client.query(
                "select ts, vals from measurements where series_id = \(seriesID) and ts < \(grid.first) order by ts desc limit 1",
                logger: logger
            )
            for try await (time, values) in before.decode((Int64, [Double]).self) { aggregator.seed(before: values, at: time) }
        }
        let rows = try await client.query(
            "select ts, vals from measurements where series_id = \(seriesID) and ts >= \(grid.first) and ts < \(grid.end) order by ts",
            logger: logger
        )
        for try await (time, values) in rows.decode((Int64, [Double]).self) {
            aggregator.add(time: time, values: values)
        }
        return aggregator.values(of: function)
    }
}
