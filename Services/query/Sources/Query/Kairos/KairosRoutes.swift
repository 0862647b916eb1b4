import Foundation
import Hummingbird
import Logging
import NIOCore
import SluiceAuth
import SluiceModel
import SluiceRuntime

/// KairosDB's read API as Amondawa served it, the domain in the path or `default`:
/// `POST /api/v1[/{domain}]/datapoints/query` and `GET /api/v1[/{domain}]/metricnames|tagnames|tagvalues`.
/// Reads need the key's read right on the domain, like `/api`.
struct KairosRoutes: Sendable {
    let evaluator: KairosEvaluator
    let catalog: KairosCatalog
    let limit: InFlightLimit
    let maxBodyBytes: Int

    func register(on group: RouterGroup<SluiceRequestContext>) {
        for prefix in ["/api/v1", "/api/v1/:domain"] {
            group.post(RouterPath("\(prefix)/datapoints/query")) { request, context in try await query(request, context: context) }
            group.get(RouterPath("\(prefix)/metricnames")) { request, context in
                let domain = try domain(context)
                let prefix = request.uri.queryParameters["prefix"].map(String.init)
                return try await list(domain, context) { try await catalog.names(domain: domain, prefix: prefix, logger: context.logger) }
            }
            group.get(RouterPath("\(prefix)/tagnames")) { _, context in
                let domain = try domain(context)
                return try await list(domain, context) { try await catalog.labelNames(domain: domain, logger: context.logger) }
            }
            group.get(RouterPath("\(prefix)/tagvalues")) { _, context in
                let domain = try domain(context)
                return try await list(domain, context) { try await catalog.labelValues(domain: domain, logger: context.logger) }
            }
        }
    }

    private func domain(_ context: SluiceRequestContext) throws -> String {
        let domain = context.parameters.get("domain") ?? Measurement.defaultDomain
        if let problem = MeasurementLimits.problem(withDomain: domain) { throw KairosError(problem) }
        try context.access.require(.read, domain: domain)
        return domain
    }

    private func list(_ domain: String, _ context: SluiceRequestContext, _ read: @Sendable () async throws -> [String]) async throws -> Response {
        let names = try await limit.runOrRefuse { try await read() }
        return json("{\"results\":[" + names.map(JSONText.quoted).joined(separator: ",") + "]}")
    }

    private func query(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let domain = try domain(context)
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let query: KairosQueryRequest
        do {
            query = try JSONDecoder().decode(KairosQueryRequest.self, from: Data(buffer: body))
        } catch {
            throw KairosError("the body is not a KairosDB query: \(Self.describe(error))")
        }
        guard !query.metrics.isEmpty else { throw KairosError("metrics must name at least one metric") }
        let window: (start: Int64, end: Int64)
        switch query.window(nowNanoseconds: WallClock.nowNanoseconds()) {
        case .success(let value): window = value
        case .failure(let error): throw error
        }
        for metric in query.metrics { _ = try evaluator.plan(metric, window: window) }  // every aggregator checked before any read
        let results = try await limit.runOrRefuse {
            var results: [KairosEvaluator.Result] = []
            for metric in query.metrics {
                results.append(try await evaluator.evaluate(metric, domain: domain, window: window, logger: context.logger))
            }
            return results
        }
        return json(Self.encode(results))
    }

    private func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// KairosDB's answer: `{"queries": [{"sample_size", "results": [{"name", "group_by", "tags", "values"}]}]}`,
    /// times in milliseconds.
    static func encode(_ results: [KairosEvaluator.Result]) -> String {
        var text = "{\"queries\":["
        for (index, result) in results.enumerated() {
            if index > 0 { text += "," }
            text += "{\"sample_size\":\(result.sampleSize),\"results\":["
            for (groupIndex, group) in result.groups.enumerated() {
                if groupIndex > 0 { text += "," }
                text += "{\"name\":\(JSONText.quoted(result.name)),\"group_by\":["
                if !group.groupedBy.isEmpty {
                    let groupObject = group.key.sorted { $0.key < $1.key }.map { "\(JSONText.quoted($0.key)):\(JSONText.quoted($0.value))" }
                    text += "{\"name\":\"tag\",\"tags\":[" + group.groupedBy.map(JSONText.quoted).joined(separator: ",") + "],\"group\":{" + groupObject.joined(separator: ",") + "}},"
                }
                text += "{\"name\":\"type\",\"type\":\"number\"}],\"tags\":{"
                text += group.tags.sorted { $0.key < $1.key }.map { "\(JSONText.quoted($0.key)):[" + $0.value.map(JSONText.quoted).joined(separator: ",") + "]" }.joined(separator: ",")
                text += "},\"values\":["
                text += group.points.map { "[\($0.time / 1_000_000),\(JSONText.number($0.value))]" }.joined(separator: ",")
                text += "]}"
            }
            text += "]}"
        }
        return text + "]}"
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context): "\((context.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type: \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            context.codingPath.isEmpty ? "not valid JSON" : "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default: "\(error)"
        }
    }
}
