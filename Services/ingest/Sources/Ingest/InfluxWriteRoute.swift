import Hummingbird
import NIOCore
import SluiceAuth
import SluiceFormats
import SluiceModel
import SluiceRuntime

/// InfluxDB's write endpoints, as Telegraf and the InfluxDB clients call them: `POST /write?db=&precision=`
/// (1.x) and `POST /api/v2/write?bucket=&org=&precision=` (2.x), line protocol, plain or gzip. The
/// database or bucket is the domain (a 1.x `db/rp` bucket name: the part before `/`); each numeric field
/// is one series (`LineProtocol.measurements`). The whole request goes through the same path as `/save`
/// and is answered `204` once Kafka acknowledged it; a line that cannot be read or stored refuses the
/// request with InfluxDB's error shape, naming the lines.
struct InfluxWriteRoute: Sendable {
    let publisher: MeasurementPublisher
    let configuration: IngestConfiguration
    let metrics = IngestMetrics()
    let wallClock: @Sendable () -> Int64 = { WallClock.nowNanoseconds() }

    func handle(_ request: Request, context: SluiceRequestContext, api: InfluxError.API) async throws -> Response {
        try publisher.refuseIfBehind()
        let query = request.uri.queryParameters
        let domainParameter = api == .v1 ? "db" : "bucket"
        guard let named = query[Substring(domainParameter)].map(String.init), !named.isEmpty else {
            metrics.rejected(.influx, .parameters).increment()
            throw InfluxError(api, "\(domainParameter) is required: it names the Sluice domain the points go to")
        }
        let domain = String(named.prefix { $0 != "/" })
        if let problem = MeasurementLimits.problem(withDomain: domain) {
            metrics.rejected(.influx, .parameters).increment()
            throw InfluxError(api, "\(domainParameter) \(domain.debugDescription): \(problem)")
        }
        let precision = query["precision"].map(String.init) ?? "ns"
        guard let unit = LineProtocol.nanosecondsPerUnit(precision: precision) else {
            metrics.rejected(.influx, .parameters).increment()
            throw InfluxError(api, "precision \(precision.debugDescription) is not one of ns, us, ms, s (1.x also n, u, m, h)")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await CompressedBody.collect(&request, maxBytes: configuration.maxBodyBytes)
        } catch let problem as CompressedBody.Problem {
            metrics.rejected(.influx, .malformed).increment()
            throw InfluxError(api, problem.description)
        }
        let measurements: [Measurement]
        switch LineProtocol.parse(Array(body.readableBytesView)) {
        case .failure(let refusal):
            metrics.rejected(.influx, .malformed).increment()
            throw InfluxError(api, "nothing was written: \(refusal)")
        case .success(let points):
            guard !points.isEmpty else {
                metrics.rejected(.influx, .malformed).increment()
                throw InfluxError(api, "the body holds no points")
            }
            switch LineProtocol.measurements(from: points, domain: domain, unitNanoseconds: unit, now: wallClock()) {
            case .failure(let refusal):
                metrics.rejected(.influx, .invalid).increment()
                throw InfluxError(api, "nothing was written: \(refusal)")
            case .success(let found): measurements = found
            }
        }
        try await publisher.publish(measurements, format: .influx, context: context)
        return Response(status: .noContent)
    }
}
