import Hummingbird
import Logging
import Metrics
import NIOCore
import SluiceAuth
import SluiceFormats
import SluiceModel
import SluiceRuntime

/// Prometheus remote write 1.0, `POST /api/v1/write[?domain=]` (the domain defaults to `default`):
/// a snappy-compressed protobuf `WriteRequest`, each series one Sluice series with one value per sample
/// (`RemoteWrite`). Published like `/save` and answered `204` once Kafka acknowledged every sample;
/// `400` for a body that cannot be read (Prometheus drops it, retrying would not help); `503` with
/// `Retry-After` when the writer is behind or Kafka did not acknowledge (Prometheus retries). Samples
/// Sluice cannot store (NaN, staleness markers, a series it refuses) are skipped and counted, not
/// refused with the rest of the request.
struct PrometheusWriteRoute: Sendable {
    let publisher: MeasurementPublisher
    let configuration: IngestConfiguration
    let metrics = IngestMetrics()

    func handle(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        if let type = request.headers[.contentType], type.contains("io.prometheus.write.v2") {
            // The 2.0 spec: a receiver that only speaks 1.0 answers 415, and the sender falls back.
            metrics.rejected(.prometheus, .parameters).increment()
            throw APIError(.unsupportedMediaType, "remote write 2.0 is not served here; send 1.0 (prometheus.WriteRequest)")
        }
        if let encoding = request.headers[.contentEncoding], encoding.lowercased() != "snappy" {
            metrics.rejected(.prometheus, .malformed).increment()
            throw APIError(.badRequest, "Content-Encoding \(encoding) is not remote write's; send the WriteRequest snappy block-compressed")
        }
        try publisher.refuseIfBehind()
        let domain = request.uri.queryParameters["domain"].map(String.init) ?? Measurement.defaultDomain
        if let problem = MeasurementLimits.problem(withDomain: domain) {
            metrics.rejected(.prometheus, .parameters).increment()
            throw APIError(.badRequest, "domain: \(problem)")
        }
        var request = request
        let body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        let decoded: RemoteWrite.Decoded
        do {
            decoded = try RemoteWrite.decode(Array(body.readableBytesView), domain: domain, limit: configuration.maxBodyBytes)
        } catch {
            metrics.rejected(.prometheus, .malformed).increment()
            throw APIError(.badRequest, "\(error)")
        }
        if !decoded.skipped.isEmpty {
            for (reason, count) in decoded.skipped { metrics.skipped(.prometheus, reason.rawValue).increment(by: count) }
            if !decoded.examples.isEmpty {
                context.logger.warning(
                    "remote write samples skipped",
                    metadata: [
                        "domain": "\(domain)", "skipped": "\(decoded.skipped.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: ","))",
                        "examples": "\(decoded.examples.joined(separator: "; "))",
                    ])
            }
        }
        if !decoded.measurements.isEmpty {
            try await publisher.publish(decoded.measurements, format: .prometheus, context: context)
        }
        return Response(status: .noContent)
    }
}
