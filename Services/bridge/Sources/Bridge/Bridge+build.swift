import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import SluiceKafka
import SluiceModel
import SluiceRuntime

/// Builds the bridge process: the job registry and its sweeper, the change-feed listener, and the HTTP
/// server. Tests call it too.
public func buildBridge(
    configuration: BridgeConfiguration,
    registry prometheus: PrometheusCollectorRegistry,
    logger: Logger
) throws -> ServiceGroup {
    let metrics = BridgeMetrics()
    let source = QueryServiceClient(baseURL: configuration.queryURL, minimumWindowMilliseconds: configuration.queryMinimumWindowMilliseconds)
    let settings = BackingJob.Settings(
        healthCheckInterval: configuration.healthCheckInterval,
        fullRefreshInterval: configuration.fullRefreshInterval
    )
    let jobs = JobRegistry(
        limits: .init(idleTime: configuration.jobIdleTime, cacheBytes: configuration.cacheBytes),
        metrics: metrics,
        logger: logger
    ) { key in
        BackingJob(key: key, source: source, settings: settings, metrics: metrics, logger: logger)
    }
    // No group is joined (partitions are assigned directly), so the id only names this reader in broker logs.
    let consumer = try KafkaConsumer(configuration: configuration.kafka, groupID: "sluice-bridge-\(UUID().uuidString.prefix(8))", logger: logger)
    let listener = ChangeFeedListener(consumer: consumer, topic: configuration.changesTopic, registry: jobs, metrics: metrics, logger: logger)

    // Healthy while it serves: without the query service or the change feed it still answers, naming
    // missing points or refreshing less often, and /metrics says which (sluice_bridge_change_feed_reading).
    let router = ServiceAssembly.router(registry: prometheus, openAPI: BridgeOpenAPI.document)
    let window: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
        let body = try await request.body.collect(upTo: 1_048_576)
        let window = try WindowRequest.parse(Data(buffer: body), nowMilliseconds: WallClock.nowNanoseconds() / 1_000_000)
        let answers = await answer(window, jobs: jobs, fillTimeout: configuration.fillTimeout)
        var found: [(series: SeriesKey, first: Int64, slots: [GridSlot])] = []
        var unknown: [String] = []
        for (series, answer) in zip(window.series, answers) {
            switch answer {
            case .unknownSeries: unknown.append(series.tag)
            case .slots(let first, let slots): found.append((series, first, slots))
            }
        }
        guard unknown.isEmpty else {
            throw APIError(
                .notFound,
                "no measurements were ever stored for \(unknown.map(JSONText.quoted).joined(separator: ", ")) in domain \(JSONText.quoted(window.series[0].domain))",
                details: ["unknown_tags": .array(unknown.map(JSONDetail.string))]
            )
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: WindowResponse.body(for: window, slots: found)))
    }
    router.post("/", use: window)
    router.post("/v1/window", use: window)

    let app = ServiceAssembly.application(router: router, address: configuration.http, name: "sluice-bridge", logger: logger)
    return ServiceAssembly.group(
        [
            .init(service: jobs),
            .init(service: listener),
            .init(service: app),
        ],
        logger: logger
    )
}

/// Each series' answer, in request order; several series are asked for concurrently.
private func answer(_ window: WindowRequest, jobs: JobRegistry, fillTimeout: Duration) async -> [JobAnswer] {
    func ask(_ series: SeriesKey) async -> JobAnswer {
        await jobs.window(
            for: JobKey(series: series, resolutionMilliseconds: window.resolutionMilliseconds),
            first: window.firstIndex, last: window.lastIndex, fillTimeout: fillTimeout
        )
    }
    guard window.series.count > 1 else { return [await ask(window.series[0])] }
    return await withTaskGroup(of: (Int, JobAnswer).self) { group in
        for (index, series) in window.series.enumerated() {
            group.addTask { (index, await ask(series)) }
        }
        var answers = [JobAnswer](repeating: .unknownSeries, count: window.series.count)
        for await (index, answer) in group { answers[index] = answer }
        return answers
    }
}
