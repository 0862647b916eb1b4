import Logging
import PostgresNIO

/// Compares a producer's ledger with what PostgreSQL holds for the same tags and time ranges.
public struct LedgerVerifier: Sendable {
    public struct Finding: Sendable, Equatable {
        public var tag: String
        public var sent: Int
        public var stored: Int
    }

    public struct Report: Sendable {
        public var tags: Int
        public var sent: Int
        public var stored: Int
        /// Tags whose stored count differs from the ledger's.
        public var findings: [Finding]

        public var lost: Int { findings.reduce(0) { $0 + max(0, $1.sent - $1.stored) } }
        public var duplicated: Int { findings.reduce(0) { $0 + max(0, $1.stored - $1.sent) } }
    }

    private let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// Counts each ledger tag's rows between its first and last accepted time, in one query.
    public func verify(_ ledger: Ledger, logger: Logger) async throws -> Report {
        let tags = ledger.entries.keys.sorted()
        let firsts = tags.map { ledger.entries[$0]?.firstTime ?? 0 }
        let lasts = tags.map { ledger.entries[$0]?.lastTime ?? 0 }
        let rows = try await client.query(
            """
            select l.tag, (select count(*) from measurements m where m.series_id = s.id and m.ts between l.first and l.last)
            from unnest(\(tags)::text[], \(firsts)::bigint[], \(lasts)::bigint[]) as l(tag, first, last)
            left join series s on s.domain = \(ledger.domain) and s.tag = l.tag
            """,
            logger: logger
        )
        var stored: [String: Int] = [:]
        for try await (tag, count) in rows.decode((String, Int?).self) { stored[tag] = count ?? 0 }
        var findings: [Finding] = []
        for tag in tags {
            let sent = ledger.entries[tag]?.count ?? 0
            let have = stored[tag] ?? 0
            if sent != have { findings.append(Finding(tag: tag, sent: sent, stored: have)) }
        }
        return Report(tags: tags.count, sent: ledger.total, stored: stored.values.reduce(0, +), findings: findings)
    }
}
