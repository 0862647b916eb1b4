import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import SluiceModel
import SluiceRuntime
import SluiceStorage
import Synchronization

/// How long raw rows are kept, as the writer last learned it: points older arrive already expired.
///
/// Their day's partition may be gone, and a late point for a minute whose rows are gone cannot be folded
/// into the tiers exactly, so the writer stores neither, keeps them as rejected records and counts them.
public final class RawRetentionWindow: Sendable {
    private let period: Mutex<Int64?>

    /// - Parameter period: nanoseconds kept; nil keeps everything.
    public init(period: Int64?) {
        self.period = Mutex(period)
    }

    public func update(_ period: Int64?) {
        self.period.withLock { $0 = period }
    }

    /// The oldest time still kept at `now`, or nil.
    public func floor(now: Int64) -> Int64? {
        period.withLock { $0 }.map { now - $0 }
    }
}

/// Runs `PartitionKeeper` right after the schema is migrated and then every `interval`, with the retention
/// stored by `sluice-admin retention` over the writer's environment.
struct PartitionMaintenance: Service {
    let client: PostgresClient
    let environmentRetention: Retention
    let periods: PartitionPeriods
    let interval: Duration
    let rawRetention: RawRetentionWindow
    let schemaReady: ReadySignal
    let logger: Logger

    func run() async throws {
        await schemaReady.waitUnlessStopping()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await round()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    func round() async {
        var retention = environmentRetention
        do {
            retention = try await client.withConnection { connection in
                try await RetentionSettings.load(connection, fallback: environmentRetention, logger: logger)
            }
        } catch {
            logger.warning("could not read the stored retention; using the environment's", metadata: ["error": "\(String(reflecting: error))"])
        }
        rawRetention.update(retention.effective(.raw))
        let reports = await PartitionKeeper(retention: retention, periods: periods).maintain(client, now: WallClock.nowNanoseconds(), logger: logger)
        for table in TimePartitionedTable.all {
            guard let report = reports[table.tier] else {
                PartitionMetrics.failures(table.tier).increment()
                continue
            }
            PartitionMetrics.created(table.tier).increment(by: report.created.count)
            PartitionMetrics.dropped(table.tier).increment(by: report.dropped.count)
            PartitionMetrics.held(table.tier).record(report.held.count)
            if let oldest = report.oldestKept {
                PartitionMetrics.oldestKept(table.tier).record(Double(oldest) / 1e9)
            }
        }
    }
}

/// What partition maintenance did: the figures an operator alarms on are failures (retention not enforced,
/// slots not made ahead) and the oldest time kept.
enum PartitionMetrics {
    static func created(_ tier: String) -> Counter {
        Counter(label: "sluice_writer_partitions_created_total", dimensions: [("tier", tier)])
    }

    static func dropped(_ tier: String) -> Counter {
        Counter(label: "sluice_writer_partitions_dropped_total", dimensions: [("tier", tier)])
    }

    static func failures(_ tier: String) -> Counter {
        Counter(label: "sluice_writer_partition_maintenance_failures_total", dimensions: [("tier", tier)])
    }

    /// Unix seconds of the oldest slot's start, when nothing older is kept (unset while the table as it
    /// was before time partitions still holds rows).
    static func oldestKept(_ tier: String) -> Gauge {
        Gauge(label: "sluice_writer_oldest_kept_time_seconds", dimensions: [("tier", tier)])
    }

    /// Partitions past retention kept for minutes the rollup refresher has still to rebuild (raw only).
    static func held(_ tier: String) -> Gauge {
        Gauge(label: "sluice_writer_partitions_held", dimensions: [("tier", tier)])
    }

    /// Points that arrived older than raw retention: neither stored nor rolled up.
    static let expiredPoints = Counter(label: "sluice_writer_expired_points_total")
}
