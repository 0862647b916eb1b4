import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An error answered to an HTTP client as JSON: `{"error": "...", ...}`, with what was wrong and how to fix it.
///
/// Internal failures are mapped to one of these at the edge so that no PostgreSQL or Kafka text leaks out.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    /// Extra fields in the JSON body, such as the list of bad messages.
    public var details: [String: JSONDetail]
    public var extraHeaders: HTTPFields

    public init(
        _ status: HTTPResponse.Status,
        _ message: String,
        details: [String: JSONDetail] = [:],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.message = message
        self.details = details
        self.extraHeaders = headers
    }

    public var headers: HTTPFields { extraHeaders }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: JSONDetail] = details
        body["error"] = .string(message)
        var headers = extraHeaders
        headers[.contentType] = "application/json"
        let data = (try? JSONEncoder.sorted.encode(body)) ?? Data(#"{"error":"internal error"}"#.utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A JSON value for the extra fields of an error body.
public enum JSONDetail: Encodable, Sendable, Equatable {
    case string(String)
    case int(Int)
    case array([JSONDetail])
    case object([String: JSONDetail])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONEncoder {
    /// Sorted keys and unescaped slashes: stable bytes for clients, tests and stored labels alike.
    public static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
