import Logging
import PostgresNIO

extension PostgresConnection {
    /// Runs `body` in a read-only transaction whose statements PostgreSQL stops after `timeout`, and
    /// leaves the connection outside any transaction whatever happens, so the pool gets it back clean.
    /// How every history statement runs: the query itself, and the plan checked at submission.
    func readOnlyTransaction<T>(timeout: Duration, logger: Logger, _ body: () async throws -> T) async throws -> T {
        try await transaction(beginning: "begin read only", logger: logger) {
            try await query(PostgresQuery(unsafeSQL: "set local statement_timeout = \(max(1, timeout.wholeMilliseconds))"), logger: logger)
            return try await body()
        }
    }

    /// Runs `body` in one read-only snapshot (repeatable read), begun by a single statement: an `/api`
    /// aggregate's marks, tier rows and raw rows must agree, and a separate `set transaction` was one more
    /// round trip per answer. Leaves the connection outside any transaction whatever happens.
    func readOnlySnapshot<T>(logger: Logger, _ body: () async throws -> T) async throws -> T {
        try await transaction(beginning: "begin isolation level repeatable read, read only", logger: logger, body)
    }

    /// `begin` (as given), `body`, then commit; rolled back if anything in it throws.
    private func transaction<T>(beginning begin: PostgresQuery, logger: Logger, _ body: () async throws -> T) async throws -> T {
        try await query(begin, logger: logger)
        do {
            let result = try await body()
            try await query("commit", logger: logger)
            return result
        } catch {
            _ = try? await query("rollback", logger: logger)
            throw error
        }
    }
}
