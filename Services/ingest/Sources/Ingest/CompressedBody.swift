import CompressNIO
import Hummingbird
import NIOCore

/// Reads a write's body whole, inflating it when the agent compressed it (`Content-Encoding: gzip` from
/// Telegraf and the InfluxDB clients). Inflated, a body may be at most `maxBytes` too: a few kilobytes of
/// gzip must not become gigabytes in memory.
enum CompressedBody {
    enum Problem: Error {
        case unsupportedEncoding(String)
        case undecodable(String)
        case tooLarge(Int)
    }

    static func collect(_ request: inout Request, maxBytes: Int) async throws -> ByteBuffer {
        let body = try await request.collectBody(upTo: maxBytes)
        let encoding = request.headers[.contentEncoding]?.lowercased() ?? "identity"
        switch encoding {
        case "identity", "":
            return body
        case "gzip", "x-gzip":
            var compressed = body
            do {
                return try compressed.decompress(with: .gzip(), maxSize: maxBytes)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                throw Problem.tooLarge(maxBytes)
            } catch {
                throw Problem.undecodable("the gzip body cannot be inflated (\(error))")
            }
        default:
            throw Problem.unsupportedEncoding(encoding)
        }
    }
}

extension CompressedBody.Problem: CustomStringConvertible {
    var description: String {
        switch self {
        case .unsupportedEncoding(let encoding): "Content-Encoding \(encoding) is not accepted; send the body as it is or gzip it"
        case .undecodable(let why): why
        case .tooLarge(let limit): "the body inflates past \(limit) bytes (SLUICE_INGEST_MAX_BODY_BYTES); send smaller batches"
        }
    }
}
