import HTTPTypes
import Hummingbird
import NIOCore
import SluiceRuntime

/// An answer in Skyline Flux's shape, `{"code": <status>, "message": …}`.
struct FluxError: AgentShapedError, Sendable {
    var status: HTTPResponse.Status
    var message: String
    var headers: HTTPFields

    init(_ message: String, status: HTTPResponse.Status = .badRequest, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        let body = #"{"code":\#(status.code),"message":\#(JSONText.quoted(message))}"#
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Every refusal on Flux's paths in Flux's shape: the auth middleware's 401 and 403, the budget's and
/// the backlog's 503 with their `Retry-After`, Hummingbird's 413.
struct FluxErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as FluxError {
            throw error
        } catch let error as APIError {
            throw FluxError(error.message, status: error.status, headers: error.headers)
        } catch let error as HTTPError {
            throw FluxError(error.body ?? error.status.reasonPhrase, status: error.status, headers: error.headers)
        }
    }
}
