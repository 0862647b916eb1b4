import Logging
import PostgresNIO
import SluiceStorage
import SluiceTestSupport
import Testing

@Suite(.timeLimit(.minutes(2)))
struct SchemaMigratorTests {
    let logger = Logger(label: "migration-test")

    @Test func copiesStartingAtOnceApplyEachMigrationOnce() async throws {
        try await TestDatabase.with { _, client in
            let migrator = SchemaMigrator(partitionCount: 6)
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 { group.addTask { try await migrator.migrate(client, logger: logger) } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(applied.sorted() == Array(1...SchemaMigrator.latestVersion))
            #expect(try await migrator.migrate(client, logger: logger).isEmpty)
            // Time partitions over what was the hash-partitioned table (migration 7): it is `_before` now.
            var partitions: [String: Int] = [:]
            let query: PostgresQuery =
                "select inhparent::regclass::text, count(*)::int from pg_inherits where inhparent in ('measurements'::regclass, 'measurements_before'::regclass) group by 1"
            for try await (parent, count) in try await client.query(query).decode((String, Int).self) { partitions[parent] = count }
            #expect(partitions == ["measurements": 2, "measurements_before": 6])
        }
    }
}
