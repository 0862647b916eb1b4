import Hummingbird
import Logging
import Metrics
import PostgresNIO
import SluiceAuth
import SluiceModel
import SluiceRuntime
import SluiceStorage

/// `GET /api`: as-of samples (or aggregates per bucket) of one series over a window, at most
/// `maxInFlight` at once, each statement cut off by PostgreSQL after `statementTimeout`.
struct SampleRoute: Sendable {
    let lookup: SeriesLookup
    let sampler: AsOfSampler
    let aggregates: AggregateReader
    let limit: InFlightLimit
    let configuration: QueryConfiguration
    let duration = Timer(label: "sluice_query_duration_seconds")
    let refusedBusy = Counter(label: "sluice_query_requests_refused_busy_total")

    func handle(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let parameters = Dictionary(request.decodedQueryParameters) { first, _ in first }
        let sampleRequest = try SampleRequest.parse(
            parameters,
            now: WallClock.nowNanoseconds(),
            minimumWindow: configuration.minimumWindowNanoseconds
        )
        // Before the lookup: another domain's tags answer 403 whether they exist or not.
        try context.access.require(.read, domain: sampleRequest.series.domain)
        let body = try await limit.runOrRefuse(counting: refusedBusy) { try await answer(sampleRequest, logger: context.logger) }
        duration.recordNanoseconds((ContinuousClock.now - started).wholeNanoseconds)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: body)
        )
    }

    private func answer(_ request: SampleRequest, logger: Logger) async throws -> ByteBuffer {
        try await answeringDatabaseFailures("the query", advice: "ask for fewer samples", logger: logger) {
            guard let seriesID = try await lookup.id(of: request.series, logger: logger) else {
                throw APIError(
                    .notFound,
                    "no measurements were ever stored for tag \(JSONText.quoted(request.series.tag)) in domain \(JSONText.quoted(request.series.domain))"
                )
            }
            switch request.reading {
            case .asOf(let grid):
                let samples = try await sampler.samples(seriesID: seriesID, grid: grid, logger: logger)
                return SampleResponse.body(for: request, samples: samples)
            case .aggregate(let aggregate):
                let grid = aggregate.buckets
                let (tier, buckets) = try await aggregates.buckets(seriesID: seriesID, grid: grid, function: aggregate.function, logger: logger)
                return SampleResponse.body(for: request, aggregate: aggregate, tier: tier, buckets: BucketFill.apply(aggregate.fill, to: buckets, grid: grid))
            }
        }
    }
}
