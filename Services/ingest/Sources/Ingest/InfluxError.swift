import HTTPTypes
import Hummingbird
import NIOCore
import SluiceRuntime

/// An InfluxDB write error in the shape its clients read: 1.x `{"error": …}` with the message also in
/// `X-Influxdb-Error`, 2.x `{"code": "invalid", "message": …}`.
struct InfluxError: AgentShapedError, Sendable {
    enum API: Sendable {
        case v1, v2
    }

    var api: API
    var status: HTTPResponse.Status
    var message: String

    init(_ api: API, _ message: String, status: HTTPResponse.Status = .badRequest) {
        self.api = api
        self.status = status
        self.message = message
    }

    var headers: HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json"]
        if api == .v1, let name = HTTPField.Name("X-Influxdb-Error") {
            // A header holds one line of visible ASCII.
            fields[name] = String(message.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : " " })
        }
        return fields
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body =
            switch api {
            case .v1: #"{"error":\#(JSONText.quoted(message))}"#
            case .v2: #"{"code":\#(status == .badRequest ? #""invalid""# : #""internal error""#),"message":\#(JSONText.quoted(message))}"#
            }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// `GET /ping`: InfluxDB's liveness answer (204 with its version header), which its 1.x clients and
/// Telegraf's outputs ask for before writing.
enum InfluxPing {
    static var response: Response {
        var headers: HTTPFields = [:]
        if let version = HTTPField.Name("X-Influxdb-Version") { headers[version] = "1.8.10-sluice" }
        if let build = HTTPField.Name("X-Influxdb-Build") { headers[build] = "OSS" }
        return Response(status: .noContent, headers: headers)
    }
}
