import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SluiceModel
import SluiceRuntime
import SluiceStorage

/// Builds the query process: PostgreSQL client, then the HTTP server, which migrates the schema before it
/// starts listening. Tests call it too.
public func buildQuery(
    configuration: QueryConfiguration,
    registry: PrometheusCollectorRegistry,
    logger: Logger
) -> ServiceGroup {
    let postgres = configuration.postgres.makeClient(backgroundLogger: logger)
    let lookup = SeriesLookup(client: postgres)
    let sampler = AsOfSampler(client: postgres)
    let duration = Timer(label: "sluice_query_duration_seconds")
    let router = ServiceAssembly.router(registry: registry) {
        do {
            try await postgres.query("select 1", logger: logger)
            return .healthy
        } catch {
            return .unavailable("PostgreSQL does not answer")
        }
    }
    router.get("/api") { request, context -> Response in
        let started = ContinuousClock.now
        let parameters = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }) { first, _ in first }
        let sampleRequest = try SampleRequest.parse(
            parameters,
            now: WallClock.nowNanoseconds(),
            minimumWindow: configuration.minimumWindowNanoseconds
        )
        let samples: [Sample]
        do {
            guard let seriesID = try await lookup.id(of: sampleRequest.series, logger: context.logger) else {
                throw APIError(
                    .notFound,
                    "no measurements were ever stored for tag \(JSONText.quoted(sampleRequest.series.tag)) in domain \(JSONText.quoted(sampleRequest.series.domain))"
                )
            }
            samples = try await sampler.samples(seriesID: seriesID, grid: sampleRequest.grid, logger: context.logger)
        } catch let error as APIError {
            throw error
        } catch {
            // Bad input was refused above, so whatever fails here is the database's side: say so, keep its text in the log.
            context.logger.error("sampling failed", metadata: ["error": "\(String(reflecting: error))"])
            throw APIError(.serviceUnavailable, "the database did not answer; try again shortly", headers: [.retryAfter: "1"])
        }
        duration.recordNanoseconds((ContinuousClock.now - started).wholeNanoseconds)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: SampleResponse.body(for: sampleRequest, samples: samples))
        )
    }
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.http.host, port: configuration.http.port), serverName: "sluice-query"),
        logger: logger
    )
    // The schema must exist before the first request; migrating here keeps /health closed until it does.
    app.beforeServerStarts {
        try await SchemaMigrator(partitionCount: configuration.partitionCount).migrateRetrying(postgres, logger: logger)
    }
    return ServiceAssembly.group([.init(service: postgres), .init(service: app)], logger: logger)
}
