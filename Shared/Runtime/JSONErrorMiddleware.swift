import Hummingbird
import Logging

/// Turns every error that escapes a route into a JSON body, so clients never see an HTML or empty 500.
///
/// Hummingbird's own errors (404 for an unknown path, 413 for an oversized body) keep their status and
/// gain a JSON explanation; anything unexpected becomes a 500 whose details stay in the log.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as any AgentShapedError {
            throw error  // already in the shape its agents' clients read
        } catch let error as HTTPError {
            throw APIError(error.status, error.body ?? Self.message(for: error.status), headers: error.headers)
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, Self.message(for: error.status))
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            throw APIError(.internalServerError, "internal error; the service log has the details")
        }
    }

    static func message(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "no such endpoint"
        case .contentTooLarge: "the request body is larger than this service accepts"
        case .methodNotAllowed: "this endpoint does not accept that method"
        default: status.reasonPhrase
        }
    }
}

/// An error answered in the shape of a protocol Sluice speaks for agents (KairosDB's `{"errors": […]}`,
/// InfluxDB's `{"error": …}`): passed through as it is, not made Sluice's own shape.
public protocol AgentShapedError: HTTPResponseError {}
