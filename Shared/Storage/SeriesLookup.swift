import Logging
import PostgresNIO
import SluiceModel
import Synchronization

/// Finds the id of a series by (domain, tag), remembering the answers: series ids never change.
public final class SeriesLookup: Sendable {
    private let client: PostgresClient
    private let known = Mutex<[SeriesKey: Int64]>([:])

    public init(client: PostgresClient) {
        self.client = client
    }

    /// - Returns: the series id, or nil when no measurement of that series was ever stored.
    public func id(of series: SeriesKey, logger: Logger) async throws -> Int64? {
        if let id = known.withLock({ $0[series] }) { return id }
        let rows = try await client.query(
            "select id from series where domain = \(series.domain) and tag = \(series.tag)",
            logger: logger
        )
        for try await id in rows.decode(Int64.self) {
            known.withLock { $0[series] = id }
            return id
        }
        return nil
    }
}
