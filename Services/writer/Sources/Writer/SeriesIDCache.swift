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

    /// The series among `keys` this cache holds no id for: all that may be new to PostgreSQL (an id, once
    /// given, stays), so only these need a name and labels for a `series` row.
    func unknown(among keys: some Collection<SeriesKey>) -> [SeriesKey] {
        ids.withLock { ids in keys.filter { ids[$0] == nil } }
    }

    /// The ids of these series, which must exist (the batch's transaction has created them), and which of
    /// them were asked of PostgreSQL. Those are not remembered here: the transaction that reads them may
    /// still roll back, and a series it created would then have no row, and a new id when created again.
    /// Its caller remembers them once it has committed (`remember(_:)`).
    func ids(of keys: some Collection<SeriesKey>, connection: PostgresConnection, logger: Logger) async throws -> (
        all: [SeriesKey: Int64], learned: [SeriesKey: Int64]
    ) {
        var found: [SeriesKey: Int64] = [:]
        var missing: [SeriesKey] = []
        ids.withLock { ids in
            for key in keys {
                if let id = ids[key] { found[key] = id } else { missing.append(key) }
            }
        }
        guard !missing.isEmpty else { return (found, [:]) }
        let rows = try await connection.query(
            """
            select e.id, e.domain, e.tag from unnest(\(missing.map(\.domain))::text[], \(missing.map(\.tag))::text[]) as k(domain, tag)
            join series e on e.domain = k.domain and e.tag = k.tag
            """,
            logger: logger
        )
        var learned: [SeriesKey: Int64] = [:]
        for try await (id, domain, tag) in rows.decode((Int64, String, String).self) { learned[SeriesKey(domain: domain, tag: tag)] = id }
        found.merge(learned) { _, new in new }
        return (found, learned)
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
