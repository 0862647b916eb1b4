import Foundation
import Hummingbird

/// Answers 405 with `Allow` for a known path asked with a method it does not serve; Hummingbird's router
/// would answer 404, as if the path did not exist. The known paths and methods come from the service's
/// OpenAPI document, so the document and this answer cannot drift apart.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    private let methods: [String: Set<String>]

    /// - Parameter openAPI: the service's OpenAPI document, as served.
    public init(openAPI: [UInt8]) {
        let document = (try? JSONSerialization.jsonObject(with: Data(openAPI))) as? [String: Any]
        let paths = document?["paths"] as? [String: [String: Any]] ?? [:]
        methods = paths.mapValues { Set($0.keys.map { $0.uppercased() }) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let allowed = methods[request.uri.path], !allowed.contains(request.method.rawValue) {
            let allow = allowed.union(allowed.contains("GET") ? ["HEAD"] : []).sorted().joined(separator: ", ")
            if request.method != .head || !allowed.contains("GET") {
                throw APIError(.methodNotAllowed, "\(request.uri.path) answers \(allow) only", headers: [.allow: allow])
            }
        }
        return try await next(request, context)
    }
}
