import Hummingbird
import Logging
import PostgresNIO
import SluiceRuntime

/// Runs a read and answers its failures the one way every query-service route does: a refusal (any
/// `HTTPResponseError`: bad input, 403, busy) passes through; a statement PostgreSQL stopped at
/// `SLUICE_QUERY_STATEMENT_TIMEOUT_MS` is a 503 that says so and what to ask instead; anything else is
/// the database's side, a 503 whose detail stays in the log, never in the answer.
/// - Parameters:
///   - what: the read, for the log and the answer ("the query", "the search").
///   - advice: what to do instead when the timeout stopped it ("ask for fewer samples").
func answeringDatabaseFailures<T>(_ what: String, advice: String, logger: Logger, _ read: () async throws -> T) async throws -> T {
    do {
        return try await read()
    } catch let error as any HTTPResponseError {
        throw error
    } catch let error as PSQLError where error.serverInfo?[.sqlState] == PostgresError.Code.queryCanceled.raw {
        logger.warning("\(what) outlasted the statement timeout")
        throw APIError(
            .serviceUnavailable, "\(what) took longer than SLUICE_QUERY_STATEMENT_TIMEOUT_MS allows and was stopped; \(advice) or try again",
            headers: [.retryAfter: "1"]
        )
    } catch {
        logger.error("\(what) failed", metadata: ["error": "\(String(reflecting: error))"])
        throw APIError(.serviceUnavailable, "the database did not answer; try again shortly", headers: [.retryAfter: "1"])
    }
}
