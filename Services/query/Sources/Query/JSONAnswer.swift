import Hummingbird
import NIOCore

extension Response {
    /// A 200 whose body is JSON text the route has written itself.
    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// What was wrong with a JSON body, in words a client can act on: the path to the field and what it
/// lacked, rather than Foundation's description of the decoder's state.
func describeDecodingFailure(_ error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let context): "\((context.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is missing"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
        "\(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type: \(context.debugDescription)"
    case DecodingError.dataCorrupted(let context):
        context.codingPath.isEmpty ? "not valid JSON" : "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
    default: "\(error)"
    }
}
