import PostgresNIO

extension PostgresClient {
    /// The integer a test's `select count(*)::int …` answers (0 when it answers no row).
    public func count(_ sql: String) async throws -> Int {
        var result = 0
        for try await n in try await query(PostgresQuery(unsafeSQL: sql)).decode(Int.self) { result = n }
        return result
    }
}
