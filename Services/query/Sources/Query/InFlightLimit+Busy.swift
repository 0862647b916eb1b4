import Metrics
import SluiceRuntime

extension InFlightLimit {
    /// Runs a read within the query service's limit, or refuses it with the one 503 every route of the
    /// service answers when `SLUICE_QUERY_MAX_IN_FLIGHT` reads are running already.
    /// - Parameter refused: counted on a refusal, for a route that reports its own.
    func runOrRefuse<T>(counting refused: Counter? = nil, _ work: () async throws -> T) async throws -> T {
        guard let answer = try await run(work) else {
            refused?.increment()
            throw APIError(
                .serviceUnavailable,
                "the query service is answering \(limit) requests already; try again after Retry-After seconds",
                headers: [.retryAfter: "1"]
            )
        }
        return answer
    }
}
