import Logging
import PostgresNIO

/// Aggregates from the raw rows: one range scan of the window's rows in time order (plus, for `rate`,
/// the point just before it), folded into buckets in the service.
///
/// Its cost grows with the rows in the window; the rollup tiers exist so that long windows of busy
/// series do not take this path.
public struct RawAggregation: Sendable {
    private let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    public func buckets(seriesID: Int64, grid: BucketGrid, function: AggregateFunction, logger: Logger) async throws -> [[Double?]?] {
        var aggregator = BucketAggregator(grid: grid)
        if function == .rate {
            let before = try await client.query(
                "select vals from measurements where series_id = \(seriesID) and ts < \(grid.first) order by ts desc limit 1",
                logger: logger
            )
            for try await values in before.decode([Double].self) { aggregator.seed(before: values) }
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
