import Hummingbird
import SluiceAuth
import SluiceRuntime

/// InfluxDB 1.x clients may send credentials as `u` and `p` query parameters instead of a header. When a
/// request has no `Authorization`, this turns them into the bearer key the auth middleware after it
/// checks; with neither, the request goes on without one and is refused there as any other would be.
struct QueryCredentialsMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[.authorization] == nil, let password = request.uri.queryParameters["p"] else {
            return try await next(request, context)
        }
        let user = request.uri.queryParameters["u"].map(String.init) ?? ""
        return try await next(request.authorized(by: AgentCredentials.key(user: user, password: String(password))), context)
    }
}
