import Hummingbird
import SluiceAuth
import SluiceModel
import SluiceRuntime
import SluiceSigning

/// `GET /series` on the bridge: the query service's series search, so the chart page finds series on the
/// origin it was served from. The caller's read right on the domain is checked here (as for windows);
/// the search runs with the bridge's own credentials and its answer passes through as it is.
struct SeriesRoute: Sendable {
    let source: QueryServiceClient

    func handle(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let domain = request.uri.queryParameters.get("domain") ?? Measurement.defaultDomain
        try context.access.require(.read, domain: domain)
        let answer: (status: UInt, body: ByteBuffer)
        do {
            // Encoded again from the decoded parameters: passed on as it came, a name with brackets
            // (`match[]`, as browsers send it) made the HTTP client escape the whole query a second time.
            let query = request.decodedQueryParameters.map { CanonicalQuery.percentEncode($0.0) + "=" + CanonicalQuery.percentEncode($0.1) }
            answer = try await source.series(query: query.joined(separator: "&"))
        } catch {
            throw APIError(.serviceUnavailable, "\(error); try again", headers: [.retryAfter: "1"])
        }
        return Response(
            status: HTTPResponse.Status(code: Int(answer.status)), headers: [.contentType: "application/json"], body: .init(byteBuffer: answer.body)
        )
    }
}
