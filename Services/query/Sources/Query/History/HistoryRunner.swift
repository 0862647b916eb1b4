import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import SluiceRuntime
import SluiceStorage

/// Runs queued history queries, `settings.workers` at a time, over connections logged in as
/// `HistorySchema.role` (a pool of their own, so a flood of heavy history never takes `/api`'s
/// connections), and keeps the books: results past retention removed, queries of a query service that
/// stopped without saying so failed, gauges current. Everything lives in PostgreSQL, so a restarted
/// service serves the results finished before it stopped.
final class HistoryRunner: Service {
    let store: HistoryStore
    let history: PostgresClient
    let settings: HistorySettings
    let logger: Logger
    /// This process among the query services sharing the database (`hist_runners`).
    let instance = UUID()
    private let metrics = HistoryMetrics()

    init(store: HistoryStore, history: PostgresClient, settings: HistorySettings, logger: Logger) {
        self.store = store
        self.history = history
        self.settings = settings
        self.logger = logger
    }

    func run() async throws {
        // Alive before the first claim, so that no other copy's sweep takes this one's queries for orphans.
        try? await cancelWhenGracefulShutdown { try await self.store.heartbeat(self.instance, logger: self.logger) }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<settings.workers { group.addTask { await self.work() } }
            group.addTask { await self.keepBooks() }
        }
        // A query claimed while the bookkeeper stopped is failed too.
        await failRunning()
    }

    /// Stopping: what still runs here will not finish. Its statements are cancelled, which frees the
    /// workers waiting on them (a stop does not wait out a long query), and it is marked FAILED rather
    /// than left RUNNING.
    private func failRunning() async {
        do {
            // Bounded: with PostgreSQL away a stop must not wait for it (and then nothing ran anyway).
            try await withAbandoningDeadline(.seconds(3)) {
                try await self.store.failRunning(of: self.instance, reason: "the query service stopped while it ran; submit it again", logger: self.logger)
            }
        } catch {
            logger.warning("could not mark this service's running history queries failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    private var stopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    private func work() async {
        while !stopping {
            do {
                if let job = try await cancelWhenGracefulShutdown({ try await self.store.claim(runner: self.instance, logger: self.logger) }) {
                    await run(job)
                    continue
                }
            } catch {
                if stopping { break }
                logger.debug("cannot claim a history query yet", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { [settings] in try await Task.sleep(for: settings.pollInterval) }
        }
    }

    /// Why a query stopped early, in words for its status.
    private struct Stopped: Error {
        var reason: String
        /// A DELETE cancelled it: its status says so already.
        static let cancelled = Stopped(reason: "cancelled")
    }

    private func run(_ job: HistoryStore.Job) async {
        let started = ContinuousClock.now
        let logger = {
            var logger = self.logger
            logger[metadataKey: "history_query"] = "\(job.id)"
            return logger
        }()
        do {
            let rows = try await cancelWhenGracefulShutdown { try await self.execute(job, logger: logger) }
            metrics.finished(rows: rows, after: ContinuousClock.now - started)
        } catch {
            let reason = (error as? Stopped)?.reason ?? Self.describe(error, timeout: settings.statementTimeout)
            if stopping || reason == Stopped.cancelled.reason {
                return  // Stopping: the bookkeeper fails what ran. Cancelled: the DELETE recorded it.
            }
            do {
                // Not running any more: a DELETE cancelled it, or its retention passed.
                guard try await store.fail(job.id, reason: reason, logger: logger) else { return }
            } catch {
                logger.warning("could not mark a history query failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            metrics.failed(after: ContinuousClock.now - started)
            logger.info("history query failed", metadata: ["reason": "\(reason)"])
        }
    }

    /// Runs the SQL in a read-only transaction with the settings' statement timeout on a connection of
    /// the history role, granted the query's domains, storing rows as they come.
    /// - Returns: how many rows the result has.
    private func execute(_ job: HistoryStore.Job, logger: Logger) async throws -> Int {
        try await history.withConnection { connection in
            var pid: Int32 = 0
            for try await value in try await connection.query("select pg_backend_pid()", logger: logger).decode(Int32.self) { pid = value }
            try await store.grant(pid, domains: job.domains, query: job.id, logger: logger)
            do {
                let count = try await connection.readOnlyTransaction(timeout: settings.statementTimeout, logger: logger) {
                    try await stream(job, on: connection, backend: pid, logger: logger)
                }
                try await store.revoke(pid, logger: logger)
                return count
            } catch {
                try? await store.revoke(pid, logger: logger)
                throw error
            }
        }
    }

    private func stream(_ job: HistoryStore.Job, on connection: PostgresConnection, backend: Int32, logger: Logger) async throws -> Int {
        var count = 0
        var columns = "[]"
        var batch: [String] = []
        var bytes = 0
        func flush() async throws {
            guard !batch.isEmpty else { return }
            guard try await store.append(job.id, first: count - batch.count, rows: batch, bytes: bytes, logger: logger) else {
                try? await store.cancelBackend(backend, logger: logger)
                throw Stopped.cancelled
            }
            batch.removeAll(keepingCapacity: true)
            bytes = 0
        }
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: job.sql), logger: logger) {
            if count == 0 {
                columns =
                    "["
                    + row.map { "{\"name\":\(JSONText.quoted($0.columnName)),\"type\":\(JSONText.quoted(HistoryCell.typeName($0.dataType)))}" }.joined(
                        separator: ",") + "]"
            }
            count += 1
            guard count <= settings.maxRows else {
                try? await store.cancelBackend(backend, logger: logger)
                throw Stopped(reason: "the result has more than \(settings.maxRows) rows (SLUICE_HIST_MAX_ROWS); narrow the query or aggregate")
            }
            var text = "["
            for (index, cell) in row.enumerated() {
                if index > 0 { text += "," }
                do {
                    text += try HistoryCell.json(cell)
                } catch let unsupported as HistoryCell.Unsupported {
                    try? await store.cancelBackend(backend, logger: logger)
                    throw Stopped(reason: unsupported.description)
                }
            }
            text += "]"
            bytes += text.utf8.count
            batch.append(text)
            if batch.count == settings.rowsPerWrite { try await flush() }
        }
        try await flush()
        try await store.finish(job.id, rows: Int64(count), columns: columns, logger: logger)
        return count
    }

    /// PostgreSQL's reason, with the statement timeout named when it was that.
    static func describe(_ error: any Error, timeout: Duration) -> String {
        guard let error = error as? PSQLError, let message = error.serverInfo?[.message] else { return "\(error)" }
        if error.serverInfo?[.sqlState] == PostgresError.Code.queryCanceled.raw, message.contains("statement timeout") {
            return "the query ran past its statement timeout of \(timeout.wholeMilliseconds) ms (SLUICE_HIST_STATEMENT_TIMEOUT_MS)"
        }
        return message
    }

    /// Heartbeat, orphans, expiry and gauges, every `settings.sweepInterval`.
    private func keepBooks() async {
        while !stopping {
            do {
                try await cancelWhenGracefulShutdown { try await self.sweep() }
            } catch {
                if stopping { break }
                logger.debug("history bookkeeping failed; trying again", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { [settings] in try await Task.sleep(for: settings.sweepInterval) }
        }
        await failRunning()
    }
}

extension HistoryRunner {
    /// One round of the books.
    fileprivate func sweep() async throws {
        try await store.heartbeat(instance, logger: logger)
        try await store.failOrphans(
            silentFor: settings.sweepInterval * 5 + .seconds(5),
            reason: "the query service running it stopped; submit it again", logger: logger
        )
        let expired = try await store.expire(logger: logger)
        if expired > 0 { logger.info("history results expired", metadata: ["count": "\(expired)"]) }
        let load = try await store.load(logger: logger)
        metrics.record(queued: load.queued, bytes: load.bytes)
    }
}

/// `sluice_history_*`: queries by final state, run time, rows returned, queue length and bytes held.
struct HistoryMetrics: Sendable {
    let finishedQueries = Counter(label: "sluice_history_queries_total", dimensions: [("state", "finished")])
    let failedQueries = Counter(label: "sluice_history_queries_total", dimensions: [("state", "failed")])
    let cancelledQueries = Counter(label: "sluice_history_queries_total", dimensions: [("state", "cancelled")])
    let submitted = Counter(label: "sluice_history_submitted_total")
    let refused = Counter(label: "sluice_history_refused_queue_full_total")
    let runTime = Timer(label: "sluice_history_run_seconds", preferredDisplayUnit: .seconds)
    let rows = Counter(label: "sluice_history_result_rows_total")
    let queued = Gauge(label: "sluice_history_queue_length")
    let bytesHeld = Gauge(label: "sluice_history_result_bytes")

    func finished(rows count: Int, after duration: Duration) {
        finishedQueries.increment()
        rows.increment(by: count)
        runTime.recordNanoseconds(Int64(duration.wholeMilliseconds) * 1_000_000)
    }

    func failed(after duration: Duration) {
        failedQueries.increment()
        runTime.recordNanoseconds(Int64(duration.wholeMilliseconds) * 1_000_000)
    }

    func record(queued count: Int, bytes: Int64) {
        queued.record(count)
        bytesHeld.record(bytes)
    }
}
