import Foundation
import Hummingbird
import Logging
import NIOCore
import SluiceAuth
import SluiceModel
import SluiceRuntime

/// KairosDB's read API as Amondawa served it, the domain in the path or `default`:
/// `POST /api/v1[/{domain}]/datapoints/query`, `POST /api/v1[/{domain}]/datapoints/query/tags` and
/// `GET /api/v1[/{domain}]/metricnames|tagnames|tagvalues`. Reads need the key's read right on the
/// domain, like `/api`; KairosDB's version and health probes are open, like `/health`.
struct KairosRoutes: Sendable {
    let evaluator: KairosEvaluator
    let catalog: KairosCatalog
    let limit: InFlightLimit
    let maxBodyBytes: Int

    func register(on group: RouterGroup<SluiceRequestContext>) {
        for prefix in ["/api/v1", "/api/v1/:domain"] {
            group.post(RouterPath("\(prefix)/datapoints/query")) { request, context in try await query(request, context: context) }
            group.post(RouterPath("\(prefix)/datapoints/query/tags")) { request, context in try await tags(request, context: context) }
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

    /// The version KairosDB's clients ask for: the API Sluice answers, named as KairosDB names itself, so
    /// that clients which parse it find what they expect.
    static let version = #"{"version":"KairosDB 1.3.0 (Sluice)"}"#

    /// `GET /api/v1/version`, and `GET /api/v1/health/check` (204, or 500 when PostgreSQL does not answer) and
    /// `/health/status` (KairosDB's list of named checks, always 200), from the same check as `/health`.
    static func registerProbes<Context: RequestContext>(on router: Router<Context>, health: @escaping @Sendable () async -> HealthStatus) {
        router.get("/api/v1/version") { _, _ in
            Response.json(version)
        }
        router.get("/api/v1/health/check") { _, _ in
            Response(status: await health().isHealthy ? .noContent : .internalServerError)
        }
        router.get("/api/v1/health/status") { _, _ in
            let status = await health()
            let line = status.isHealthy ? "Datastore-Query: OK" : "Datastore-Query: FAIL"
            return Response.json("[\(JSONText.quoted(line))]")
        }
    }

    private func domain(_ context: SluiceRequestContext) throws -> String {
        let domain = context.parameters.get("domain") ?? Measurement.defaultDomain
        if let problem = MeasurementLimits.problem(withDomain: domain) { throw KairosError(problem) }
        try context.access.require(.read, domain: domain)
        return domain
    }

    private func list(_ domain: String, _ context: SluiceRequestContext, _ read: @Sendable () async throws -> [String]) async throws -> Response {
        let names = try await answeringDatabaseFailures("the listing", advice: "ask for a prefix", logger: context.logger) {
            try await limit.runOrRefuse { try await read() }
        }
        return .json("{\"results\":[" + names.map(JSONText.quoted).joined(separator: ",") + "]}")
    }

    /// A query's body read and its window checked, or KairosDB's 400.
    private func read(_ request: Request) async throws -> (query: KairosQueryRequest, window: (start: Int64, end: Int64)) {
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let query: KairosQueryRequest
        do {
            query = try JSONDecoder().decode(KairosQueryRequest.self, from: Data(buffer: body))
        } catch {
            throw KairosError("the body is not a KairosDB query: \(describeDecodingFailure(error))")
        }
        guard !query.metrics.isEmpty else { throw KairosError("metrics must name at least one metric") }
        switch query.window(nowNanoseconds: WallClock.nowNanoseconds()) {
        case .success(let window): return (query, window)
        case .failure(let error): throw error
        }
    }

    /// The tags of each metric's matching series, with no values. Like KairosDB, which reads only its
    /// coarse row index for this, the window does not narrow the series: every matching one counts.
    private func tags(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let domain = try domain(context)
        let (query, _) = try await read(request)
        let found = try await answeringDatabaseFailures("the tag query", advice: "filter by tags", logger: context.logger) {
            try await limit.runOrRefuse {
                var found: [(name: String, tags: [String: [String]])] = []
                for metric in query.metrics {
                    let series = try await catalog.series(domain: domain, name: metric.name, filters: metric.tags, logger: context.logger)
                    found.append((metric.name, KairosCatalog.tags(of: series)))
                }
                return found
            }
        }
        let results = found.map { "{\"name\":\(JSONText.quoted($0.name)),\"tags\":\(Self.encode(tags: $0.tags)),\"values\":[]}" }
        return .json("{\"queries\":[{\"results\":[" + results.joined(separator: ",") + "]}]}")
    }

    private func query(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let domain = try domain(context)
        let (query, window) = try await read(request)
        for metric in query.metrics { _ = try evaluator.plan(metric, window: window) }  // every aggregator checked before any read
        let results = try await answeringDatabaseFailures("the query", advice: "narrow the window or sample more coarsely", logger: context.logger) {
            try await limit.runOrRefuse {
                var results: [KairosEvaluator.Result] = []
                for metric in query.metrics {
                    results.append(try await evaluator.evaluate(metric, domain: domain, window: window, logger: context.logger))
                }
                return results
            }
        }
        return .json(Self.encode(results))
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
                    text +=
                        "{\"name\":\"tag\",\"tags\":[" + group.groupedBy.map(JSONText.quoted).joined(separator: ",") + "],\"group\":{"
                        + groupObject.joined(separator: ",") + "}},"
                }
                text += "{\"name\":\"type\",\"type\":\"number\"}],\"tags\":" + encode(tags: group.tags) + ",\"values\":["
                text += group.points.map { "[\($0.time / 1_000_000),\(JSONText.number($0.value))]" }.joined(separator: ",")
                text += "]}"
            }
            text += "]}"
        }
        return text + "]}"
    }

    /// A result's `tags`: `{"host": ["a", "b"], …}`, names in order.
    static func encode(tags: [String: [String]]) -> String {
        "{"
            + tags.sorted { $0.key < $1.key }.map { "\(JSONText.quoted($0.key)):[" + $0.value.map(JSONText.quoted).joined(separator: ",") + "]" }.joined(
                separator: ",") + "}"
    }
}
