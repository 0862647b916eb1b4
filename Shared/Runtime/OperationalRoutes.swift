import Hummingbird
import NIOCore
import Prometheus

extension Router {
    /// Adds `GET /health` and `GET /metrics`, which every Sluice service answers.
    ///
    /// - Parameters:
    ///   - registry: the Prometheus registry the process bootstrapped swift-metrics with.
    ///   - check: reports whether the service can do its job right now (for example, its database answers).
    public func addOperationalRoutes(
        registry: PrometheusCollectorRegistry,
        check: @escaping @Sendable () async -> HealthStatus = { .healthy }
    ) {
        get("/health") { _, _ -> Response in
            let status = await check()
            let body = status.isHealthy ? #"{"status":"ok"}"# : #"{"status":"unavailable","reason":\#(JSONText.quoted(status.reason))}"#
            return Response(
                status: status.isHealthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
    }
}

/// Whether a service can serve right now, and if not, why.
public struct HealthStatus: Sendable {
    public var isHealthy: Bool
    public var reason: String

    public static let healthy = HealthStatus(isHealthy: true, reason: "")

    public static func unavailable(_ reason: String) -> HealthStatus {
        HealthStatus(isHealthy: false, reason: reason)
    }
}
