import Hummingbird
import Logging
import Metrics
import NIOCore
import SluiceAuth
import SluiceKafka
import SluiceModel
import SluiceRuntime

/// `POST /save`: validates a whole body, publishes it, and answers 202 only once Kafka acknowledged all of it.
struct SaveRoute: Sendable {
    let publisher: MeasurementPublisher
    let configuration: IngestConfiguration
    let decoder = IngestBodyDecoder()
    let metrics = IngestMetrics()

    func handle(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        try publisher.refuseIfBehind()
        var request = request
        let body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        let isNDJSON = request.headers[.contentType].map { $0.contains("ndjson") || $0.contains("jsonl") } ?? false
        // Read in place: the body is not copied for the usual shapes.
        let decoded = body.withUnsafeReadableBytes { raw in
            Result { () throws(IngestBodyError) in try decoder.decode(raw.assumingMemoryBound(to: UInt8.self), isNDJSON: isNDJSON) }
        }
        let measurements: [Measurement]
        do {
            measurements = try decoded.get()
        } catch {
            metrics.rejected(.json, error.isMalformed ? .malformed : .invalid).increment()
            throw Self.apiError(for: error)
        }
        try await publisher.publish(measurements, format: .json, context: context)
        return Response(
            status: .accepted,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"accepted":\#(measurements.count)}"#))
        )
    }

    /// 503 when Kafka did not acknowledge every message. Messages it took before the failure may still be
    /// stored, so the answer does not claim that nothing was; resending is what makes the request whole,
    /// and it is safe because the first write of a (series, time) wins.
    static func unacknowledgedError(configuration: IngestConfiguration) -> APIError {
        APIError(
            .serviceUnavailable,
            "Kafka did not acknowledge every message, so the request was not accepted (some of its messages may still be stored); "
                + "send the same request again after Retry-After seconds: a message sent twice is stored once",
            headers: [.retryAfter: String(configuration.retryAfterSeconds)]
        )
    }

    /// 503 while the writer is too far behind: accepting more could outrun what Kafka retains.
    static func backlogError(_ backlog: Backlog, configuration: IngestConfiguration) -> APIError {
        let why =
            backlog.storedOffsetsKnown
            ? "the writer is behind: partition \(backlog.partition) of \(configuration.topic) holds \(backlog.messages) messages not yet stored (limit \(configuration.maxPartitionBacklog))"
            : "ingest cannot read the writer's progress from PostgreSQL, and Kafka holds \(backlog.messages) messages on partition \(backlog.partition) it cannot show as stored (limit \(configuration.maxPartitionBacklog))"
        return APIError(
            .serviceUnavailable,
            why + "; nothing was accepted, send the same request again after Retry-After seconds",
            details: ["backlog_messages": .int(Int(clamping: backlog.messages))],
            headers: [.retryAfter: String(configuration.retryAfterSeconds)]
        )
    }

    static func apiError(for error: IngestBodyError) -> APIError {
        switch error {
        case .empty:
            return APIError(.badRequest, "the body holds no messages; send one object, an array of objects, or NDJSON")
        case .malformed(let reason):
            return APIError(.badRequest, reason)
        case .invalidMessages(let problems, let invalidCount, let total):
            let listed = problems.map { problem in
                JSONDetail.object(["index": .int(problem.index), "reason": .string(problem.reason)])
            }
            return APIError(
                .badRequest,
                "\(invalidCount) of \(total) messages are invalid; nothing was accepted. Fix them and send the request again",
                details: ["invalid": .array(listed), "invalid_count": .int(invalidCount)]
            )
        }
    }
}
