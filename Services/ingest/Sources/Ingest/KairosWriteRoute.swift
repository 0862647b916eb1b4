import Foundation
import Hummingbird
import NIOCore
import SluiceAuth
import SluiceModel
import SluiceRuntime

/// KairosDB's write API as Amondawa served it: `POST /api/v1[/{domain}]/datapoints` with
/// `[{"name", "tags", "datapoints": [[ms, value], …]}]` (or `"timestamp"` and `"value"`; one object or an
/// array), plain or gzipped (`Content-Encoding: gzip`, as KairosDB's Java client sends it). Each metric
/// and its tags are one series, `name{tag="value",…}`, with one value per point.
/// The whole request is published through the same path as `/save` (backlog, keys, Kafka's
/// acknowledgement) and answered `204`; a bad metric refuses the request with KairosDB's
/// `400 {"errors": […]}`.
struct KairosWriteRoute: Sendable {
    let publisher: MeasurementPublisher
    let configuration: IngestConfiguration
    let metrics = IngestMetrics()
    /// How many problems an answer lists.
    static let maxReportedProblems = 10

    func handle(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        try publisher.refuseIfBehind()
        let domain = context.parameters.get("domain") ?? SluiceModel.Measurement.defaultDomain
        var request = request
        let body: ByteBuffer
        do {
            body = try await CompressedBody.collect(&request, maxBytes: configuration.maxBodyBytes)
        } catch let problem as CompressedBody.Problem {
            metrics.rejected(.kairosdb, .malformed).increment()
            throw KairosError(problem.description)
        }
        let measurements: [SluiceModel.Measurement]
        do {
            measurements = try Self.measurements(from: Data(buffer: body), domain: domain)
        } catch {
            metrics.rejected(.kairosdb, .invalid).increment()
            throw error
        }
        try await publisher.publish(measurements, format: .kairosdb, context: context)
        return Response(status: .noContent)
    }

    /// The measurements of a body, or every reason (up to `maxReportedProblems`) it is refused.
    static func measurements(from body: Data, domain: String) throws(KairosError) -> [SluiceModel.Measurement] {
        if let problem = MeasurementLimits.problem(withDomain: domain) { throw KairosError(problem) }
        let metrics: [KairosMetric]
        do {
            let trimmed = body.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
            metrics =
                trimmed.first == UInt8(ascii: "[")
                ? try JSONDecoder().decode([KairosMetric].self, from: body)
                : [try JSONDecoder().decode(KairosMetric.self, from: body)]
        } catch {
            throw KairosError("the body is not KairosDB JSON (an object or an array of {name, tags, datapoints}): \(error.localizedDescription)")
        }
        guard !metrics.isEmpty else { throw KairosError("the body holds no metrics") }
        var measurements: [SluiceModel.Measurement] = []
        var problems: [String] = []
        for (index, metric) in metrics.enumerated() {
            switch metric.measurements(domain: domain) {
            case .success(let found): measurements += found
            case .failure(let problem): problems.append("metric[\(index)](name=\(metric.name ?? "")): \(problem.messages.joined(separator: "; "))")
            }
        }
        guard problems.isEmpty else { throw KairosError(messages: Array(problems.prefix(maxReportedProblems))) }
        return measurements
    }
}

/// One metric of a KairosDB write, read leniently so that each problem names its metric and point.
struct KairosMetric: Decodable {
    var name: String?
    var tags: [String: String]?
    var points: [Result<(Int64, Double), KairosError>] = []
    var problem: String?

    private enum Keys: String, CodingKey { case name, tags, datapoints, timestamp, value, type, ttl }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        name = try? container.decode(String.self, forKey: .name)
        if container.contains(.tags) {
            guard let tags = try? container.decode([String: String].self, forKey: .tags) else {
                problem = "tags must be an object of strings"
                return
            }
            self.tags = tags
        }
        if let type = try? container.decode(String.self, forKey: .type), !["double", "long", "number"].contains(type) {
            problem = "type \(type) is not stored by Sluice; send numbers"
            return
        }
        if container.contains(.datapoints) {
            guard var list = try? container.nestedUnkeyedContainer(forKey: .datapoints) else {
                problem = "datapoints must be an array of [timestamp, value] pairs"
                return
            }
            var index = 0
            while !list.isAtEnd {
                points.append(Self.pair(&list, index: index))
                index += 1
            }
        } else if container.contains(.timestamp) || container.contains(.value) {
            guard let time = try? container.decode(Int64.self, forKey: .timestamp) else {
                problem = "timestamp must be milliseconds since 1970"
                return
            }
            guard let value = try? container.decode(Double.self, forKey: .value) else {
                problem = "value must be a number"
                return
            }
            points = [.success((time, value))]
        } else {
            problem = "datapoints (or timestamp and value) is missing"
        }
    }

    private static func pair(_ list: inout any UnkeyedDecodingContainer, index: Int) -> Result<(Int64, Double), KairosError> {
        guard var pair = try? list.nestedUnkeyedContainer() else {
            _ = try? list.decode(Skipped.self)
            return .failure(KairosError("datapoints[\(index)] must be a [timestamp, value] pair"))
        }
        guard let time = try? pair.decode(Int64.self) else {
            return .failure(KairosError("datapoints[\(index)] timestamp must be milliseconds since 1970"))
        }
        guard let value = try? pair.decode(Double.self) else {
            return .failure(KairosError("datapoints[\(index)] value must be a number"))
        }
        guard pair.isAtEnd else { return .failure(KairosError("datapoints[\(index)] must hold exactly a timestamp and a value")) }
        return .success((time, value))
    }

    /// Consumes any JSON value.
    private struct Skipped: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    func measurements(domain: String) -> Result<[SluiceModel.Measurement], KairosError> {
        if let problem { return .failure(KairosError(problem)) }
        guard let name, !name.isEmpty else { return .failure(KairosError("name is missing or empty")) }
        let labels = tags ?? [:]
        var tag = name
        if !labels.isEmpty {
            if let problem = MeasurementLimits.problem(withLabels: labels) { return .failure(KairosError(problem)) }
            guard !name.contains("{") else { return .failure(KairosError("a metric name with tags must not contain '{'")) }
            tag = SeriesName(name: name, labels: labels).canonical
        }
        guard !points.isEmpty else { return .failure(KairosError("datapoints is empty")) }
        var measurements: [SluiceModel.Measurement] = []
        for (index, point) in points.enumerated() {
            switch point {
            case .failure(let error): return .failure(error)
            case .success(let (milliseconds, value)):
                let (time, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
                guard !overflow else { return .failure(KairosError("datapoints[\(index)] timestamp \(milliseconds) is out of range")) }
                let measurement = SluiceModel.Measurement(domain: domain, tag: SeriesName.canonicalize(tag), time: time, values: [value])
                if let problem = MeasurementLimits.problem(with: measurement) {
                    return .failure(KairosError("datapoints[\(index)]: \(problem)"))
                }
                measurements.append(measurement)
            }
        }
        return .success(measurements)
    }
}
