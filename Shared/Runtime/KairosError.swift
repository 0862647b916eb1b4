import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A request KairosDB would refuse, answered in KairosDB's shape: `400 {"errors": ["…", …]}`, so that
/// KairosDB clients show the reasons.
public struct KairosError: AgentShapedError, Sendable, Equatable {
    public var messages: [String]

    public init(_ message: String) {
        messages = [message]
    }

    public init(messages: [String]) {
        self.messages = messages
    }

    public func prefixed(_ context: String) -> KairosError {
        KairosError(messages: messages.map { "\(context): \($0)" })
    }

    public var status: HTTPResponse.Status { .badRequest }
    public var headers: HTTPFields { [.contentType: "application/json"] }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = "{\"errors\":[" + messages.map(JSONText.quoted).joined(separator: ",") + "]}"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
