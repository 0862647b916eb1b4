import Hummingbird
import SluiceAuth
import SluiceRuntime

/// Caps the request bytes ingest holds at once, counting each request by its declared length (the most
/// a body may be when none is declared); a request that would pass it gets 503 before its body is read.
///
/// It runs before authentication, which reads a signed request's whole body, so that memory is
/// counted too.
struct BodyBudgetMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let bodies: InFlightLimit
    let configuration: IngestConfiguration
    let metrics = IngestMetrics()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let declared = request.headers[.contentLength].flatMap { Int($0) }.map { min(max($0, 0), configuration.maxBodyBytes) }
        guard let response = try await bodies.run(weight: declared ?? configuration.maxBodyBytes, { try await next(request, context) }) else {
            metrics.refusedForMemory.increment()
            throw APIError(
                .serviceUnavailable,
                "ingest is holding as many request bytes as SLUICE_INGEST_MAX_IN_FLIGHT_BYTES allows (\(bodies.limit)); nothing was accepted, send the same request again after Retry-After seconds",
                headers: [.retryAfter: String(configuration.retryAfterSeconds)]
            )
        }
        return response
    }
}
