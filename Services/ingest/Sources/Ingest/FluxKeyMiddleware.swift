import Foundation
import Hummingbird
import SluiceAuth
import SluiceRuntime
import SluiceSigning

/// Flux carries its key as `key=` (GET) or a `"key"` field of the JSON body (POST); this makes it the
/// bearer header the auth middleware after it checks, so a Flux key is a Sluice key with the same rights.
/// A POST's body is read here (within the route's limit) and handed on whole.
struct FluxKeyMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let maxBodyBytes: Int

    private struct KeyField: Decodable {
        var key: String?
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        var key = request.uri.queryParameters["key"].map(String.init)
        var body: ByteBuffer?
        if request.method == .post {
            let collected = try await request.collectBody(upTo: maxBodyBytes)
            body = collected
            if key == nil { key = (try? JSONDecoder().decode(KeyField.self, from: Data(buffer: collected)))?.key }
        }
        return try await next(request.authorized(by: key.flatMap { KeyCredentials(token: $0) }, body: body), context)
    }
}
