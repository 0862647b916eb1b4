import Logging
import PostgresNIO
import SluiceModel
import Synchronization

/// The `series.id` of each (domain, tag) the writer has stored, so a batch asks PostgreSQL only for the
/// series it has not seen yet. An id never changes once given, so entries never go stale.
final class SeriesIDCache: Sendable {
    private let ids = Mutex<[SeriesKey: Int64]>([:])
    /// Past this many series the cache is cleared rather than grown.
    let capacity: Int

    init(capacity: Int = 500_000) {
        self.capacity = capacity
    }

    /// The ids this cache holds for these series, and the series it holds none for: all that may be new to
    /// PostgreSQL (an id, once given, stays), so only these need a name and labels for a `series` row, and
    /// only these are asked of PostgreSQL (`read(_:connection:logger:)`).
    func lookUp(_ keys: some Collection<SeriesKey>) -> (known: [SeriesKey: Int64], unknown: [SeriesKey]) {
        var known: [SeriesKey: Int64] = [:]
        var unknown: [SeriesKey] = []
        ids.withLock { ids in
            for key in keys {
                if let id = ids[key] { known[key] = id } else { unknown.append(key) }
            }
        }
        return (known, unknown)
    }

    /// The ids of series this cache held none for, which must exist by now (the batch's transaction has
    /// created them). They are not remembered here: the transaction that reads them may still roll back,
    /// and a series it created would then have no row, and a new id when created again. Its caller
    /// remembers them once it has committed (`remember(_:)`).
    func read(_ keys: [SeriesKey], connection: PostgresConnection, logger: Logger) async throws -> [SeriesKey: Int64] {
        guard !keys.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            select e.id, e.domain, e.tag from unnest(\(keys.map(\.domain))::text[], \(keys.map(\.tag))::text[]) as k(domain, tag)
            join series e on e.domain = k.domain and e.tag = k.tag
            """,
            logger: logger
        )
        var read: [SeriesKey: Int64] = [:]
        for try await (id, domain, tag) in rows.decode((Int64, String, String).self) { read[SeriesKey(domain: domain, tag: tag)] = id }
        return read
    }

    /// Remembers ids a committed transaction read.
    func remember(_ learned: [SeriesKey: Int64]) {
        guard !learned.isEmpty else { return }
        ids.withLock { ids in
            if ids.count + learned.count > capacity { ids.removeAll(keepingCapacity: true) }
            ids.merge(learned) { _, new in new }
        }
    }
}
