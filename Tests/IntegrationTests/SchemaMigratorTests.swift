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
            #expect(applied.sorted() == [1, 2, 3, 4, 5])
            #expect(try await migrator.migrate(client, logger: logger).isEmpty)
            var partitions = 0
            let query: PostgresQuery = "select count(*) from pg_inherits where inhparent = 'measurements'::regclass"
            for try await count in try await client.query(query).decode(Int.self) { partitions = count }
            #expect(partitions == 6)
            // A series inserted with its tag alone (as scripts do) gets the tag as its name.
            try await client.query("insert into series (domain, tag) values ('d', 'plain')", logger: logger)
            var name = ""
            for try await value in try await client.query("select name from series where tag = 'plain'", logger: logger).decode(String.self) { name = value }
            #expect(name == "plain")
        }
    }
}
