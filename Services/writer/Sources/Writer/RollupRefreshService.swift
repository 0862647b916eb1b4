import Logging
import PostgresNIO
import ServiceLifecycle
import SluiceRuntime
import SluiceStorage

/// Runs the refresher (`RollupRefresher`) in the writer process: rounds back to back while marks can be
/// rebuilt, then a pause of `interval`. Every writer runs one; the refresher's lock lets one work at a
/// time. A failed round is logged and tried again after the pause: the marks stay until rebuilt.
struct RollupRefreshService: Service {
    let refresher: RollupRefresher
    let interval: Duration
    let schemaReady: ReadySignal
    let logger: Logger

    func run() async throws {
        await schemaReady.waitUnlessStopping()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var busy = false
            do {
                if let round = try await cancelWhenGracefulShutdown({ try await refresher.round(logger: logger) }) {
                    RollupMetrics.refreshedMinutes.increment(by: round.minutes)
                    RollupMetrics.refreshedHours.increment(by: round.hours)
                    RollupMetrics.rowsRead.increment(by: round.rowsRead)
                    RollupMetrics.expiredMarks.increment(by: round.expired)
                    busy = round.ranges > 0
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                logger.warning("rollup refresh failed; marks stay until a later round", metadata: ["error": "\(String(reflecting: error))"])
            }
            if !busy {
                if let pending = try? await refresher.pending(logger: logger) { RollupMetrics.pendingMarks.record(pending) }
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            }
        }
    }
}
