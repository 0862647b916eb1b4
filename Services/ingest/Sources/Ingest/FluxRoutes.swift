import Foundation
import Hummingbird
import NIOCore
import SluiceAuth
import SluiceFormats
import SluiceModel
import SluiceRuntime

/// Skyline Flux's intake (seed 004), each metric one Sluice series without labels and one value:
///
/// - `GET /flux/metric_data?metric=&timestamp=&value=&key=[&fill=][&domain=]`
/// - `POST /flux/metric_data_post`: `{"metric", "timestamp", "value", "key"}` or `{"key", "metrics":
///   [{"metric", "timestamp", "value"}, …]}`; `"test": true` checks everything and stores nothing
/// - `POST /flux/populate_metric`: `{"key", "metric", "datapoints": [[timestamp, value], …]}`, backfill,
///   without the age limit
///
/// Timestamps are seconds, at most `SLUICE_FLUX_MAX_AGE_S` old (not for backfill) and 60 s ahead. The
/// domain is `domain=` (query or body), else the one domain the key may write, else `default`. Answers
/// as Flux gives them: `204`, `400 {"code": 400, "message"}` refusing the whole request for one bad
/// metric, `401` for a missing or bad key. Published like `/save`, so a repeated (metric, timestamp)
/// keeps its first value while an older timestamp never stored before is stored: backfill needs no flag
/// (`fill` is accepted and changes nothing).
struct FluxRoutes: Sendable {
    let publisher: MeasurementPublisher
    let configuration: IngestConfiguration
    let metrics = IngestMetrics()
    let wallClock: @Sendable () -> Int64 = { WallClock.nowNanoseconds() }

    struct Single: Decodable {
        var metric: String?
        var timestamp: Flux.Scalar?
        var value: Flux.Scalar?
    }

    struct Post: Decodable {
        var metric: String?
        var timestamp: Flux.Scalar?
        var value: Flux.Scalar?
        var metrics: [Single]?
        var test: Bool?
        var domain: String?
    }

    struct Populate: Decodable {
        var metric: String?
        var datapoints: [[Flux.Scalar]]?
        var domain: String?
    }

    func metricData(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let domain = try domain(query["domain"].map(String.init), context: context)
        let point = Single(
            metric: query["metric"].map(String.init), timestamp: query["timestamp"].map { .text(String($0)) }, value: query["value"].map { .text(String($0)) })
        try await store(try measurements([point], domain: domain, window: window(backfill: false)), context: context)
        return Response(status: .noContent)
    }

    func metricDataPost(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let post: Post = try await decode(request)
        let domain = try domain(post.domain, context: context)
        let points = post.metrics ?? [Single(metric: post.metric, timestamp: post.timestamp, value: post.value)]
        guard !points.isEmpty else { throw refuse("metrics is empty") }
        let measurements = try measurements(points, domain: domain, window: window(backfill: false))
        if post.test == true {
            // Checked as if stored, rights included; nothing is sent.
            try context.access.require(.write, domain: domain)
            return Response(status: .noContent)
        }
        try await store(measurements, context: context)
        return Response(status: .noContent)
    }

    func populateMetric(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let populate: Populate = try await decode(request)
        let domain = try domain(populate.domain, context: context)
        guard let datapoints = populate.datapoints, !datapoints.isEmpty else { throw refuse("datapoints is missing or empty") }
        var points: [Single] = []
        points.reserveCapacity(datapoints.count)
        for (index, pair) in datapoints.enumerated() {
            guard pair.count == 2 else { throw refuse("datapoints[\(index)] must be [timestamp, value]") }
            points.append(Single(metric: populate.metric, timestamp: pair[0], value: pair[1]))
        }
        try await store(try measurements(points, domain: domain, window: window(backfill: true)), context: context)
        return Response(status: .noContent)
    }

    private func window(backfill: Bool) -> Flux.Window {
        Flux.Window(now: wallClock(), maxAgeNanoseconds: backfill ? nil : Int64(configuration.fluxMaxAgeSeconds) * 1_000_000_000)
    }

    /// `domain=` when given, else the only domain the key may write, else `default`.
    private func domain(_ requested: String?, context: SluiceRequestContext) throws -> String {
        if let requested, !requested.isEmpty {
            if let problem = MeasurementLimits.problem(withDomain: requested) { throw refuse("domain: \(problem)") }
            return requested
        }
        if case .key(_, let rights) = context.access, !rights.everyDomain.contains(.write) {
            let writable = rights.domains.filter { $0.value.contains(.write) }.map(\.key)
            if writable.count == 1, let only = writable.first { return only }
        }
        return SluiceModel.Measurement.defaultDomain
    }

    private func measurements(_ points: [Single], domain: String, window: Flux.Window) throws -> [SluiceModel.Measurement] {
        var measurements: [SluiceModel.Measurement] = []
        measurements.reserveCapacity(points.count)
        for (index, point) in points.enumerated() {
            switch Flux.measurement(metric: point.metric, timestamp: point.timestamp, value: point.value, domain: domain, window: window) {
            case .success(let measurement): measurements.append(measurement)
            case .failure(let problem): throw refuse(points.count == 1 ? problem.message : "metrics[\(index)]: \(problem.message)", reason: .invalid)
            }
        }
        return measurements
    }

    private func store(_ measurements: [SluiceModel.Measurement], context: SluiceRequestContext) async throws {
        try publisher.refuseIfBehind()
        try await publisher.publish(measurements, format: .flux, context: context)
    }

    private func decode<Body: Decodable>(_ request: Request) async throws -> Body {
        var request = request
        let body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        do {
            return try JSONDecoder().decode(Body.self, from: Data(buffer: body))
        } catch {
            throw refuse("the body is not the JSON Flux takes: \(error.localizedDescription)", reason: .malformed)
        }
    }

    private func refuse(_ message: String, reason: RejectionReason = .parameters) -> FluxError {
        metrics.rejected(.flux, reason).increment()
        return FluxError(message)
    }
}
