import Foundation
import Logging
import PostgresNIO
import SluiceModel
import SluiceStorage

/// History queries, their states and their results in PostgreSQL (`HistorySchema`), over the query
/// service's own connections: what the routes and the runner read and change. A result row is stored
/// as its JSON array text, numbered from 0, so a page is one index range scan.
struct HistoryStore: Sendable {
    let client: PostgresClient

    enum State: String, Sendable {
        case queued = "QUEUED"
        case running = "RUNNING"
        case finished = "FINISHED"
        case failed = "FAILED"
        case cancelled = "CANCELLED"

        var isDone: Bool { self == .finished || self == .failed || self == .cancelled }
    }

    struct Status: Sendable {
        var state: State
        var submittedAt: String
        var startedAt: String?
        var finishedAt: String?
        var rows: Int64?
        var error: String?
        /// What it may read (nil: every domain).
        var domains: [String]?
    }

    /// A query claimed to run.
    struct Job: Sendable {
        var id: UUID
        var sql: String
        var domains: [String]?
    }

    static let iso = #"'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"#

    /// Queues a query unless `queueLimit` are queued or running already (nil then).
    func submit(sql: String, domains: [String]?, retentionMinutes: Int, queueLimit: Int, logger: Logger) async throws -> UUID? {
        let id = UUID()
        let rows = try await client.query(
            """
            insert into hist_queries (id, sql, domains, state, expires_at)
            select \(id), \(sql), \(domains), 'QUEUED', now() + \(retentionMinutes) * interval '1 minute'
            where (select count(*) from hist_queries where state in ('QUEUED', 'RUNNING')) < \(queueLimit)
            returning id
            """,
            logger: logger
        )
        for try await inserted in rows.decode(UUID.self) { return inserted }
        return nil
    }

    /// The query's status, or nil when it is unknown or its result expired.
    func status(_ id: UUID, logger: Logger) async throws -> Status? {
        let rows = try await client.query(
            """
            select state, to_char(submitted_at at time zone 'UTC', \(unescaped: Self.iso)), to_char(started_at at time zone 'UTC', \(unescaped: Self.iso)),
                   to_char(finished_at at time zone 'UTC', \(unescaped: Self.iso)), row_count, error, domains
            from hist_queries where id = \(id) and expires_at > now()
            """,
            logger: logger
        )
        for try await (state, submitted, started, finished, count, error, domains) in rows.decode(
            (String, String, String?, String?, Int64?, String?, [String]?).self)
        {
            return Status(
                state: State(rawValue: state) ?? .failed, submittedAt: submitted, startedAt: started, finishedAt: finished, rows: count, error: error,
                domains: domains
            )
        }
        return nil
    }

    /// A finished result's columns (JSON) and rows `[from, from + count)`, or nil when it has none.
    func page(_ id: UUID, from: Int, count: Int, logger: Logger) async throws -> (columns: String, total: Int64, rows: [String])? {
        var header: (String, Int64)?
        for try await (columns, total) in try await client.query(
            "select coalesce(columns, '[]'), coalesce(row_count, 0) from hist_queries where id = \(id) and state = 'FINISHED' and expires_at > now()",
            logger: logger
        ).decode((String, Int64).self) {
            header = (columns, total)
        }
        guard let (columns, total) = header else { return nil }
        var rows: [String] = []
        rows.reserveCapacity(count)
        let query: PostgresQuery = """
            select cells from hist_rows where query_id = \(id) and row_number >= \(from) and row_number < \(from + count) order by row_number
            """
        for try await cells in try await client.query(query, logger: logger).decode(String.self) { rows.append(cells) }
        return (columns, total, rows)
    }

    /// Cancels a queued or running query (its rows gone, its status kept as CANCELLED until it expires) or
    /// drops a finished one (gone: its id is then unknown). Returns the state it was in, nil if unknown,
    /// and the backend to stop when it was running.
    func cancelOrDrop(_ id: UUID, logger: Logger) async throws -> (state: State, backend: Int32?)? {
        try await client.withTransaction(logger: logger) { connection in
            var found: (State, Int32?)?
            for try await (state, backend) in try await connection.query(
                "select state, backend_pid from hist_queries where id = \(id) and expires_at > now() for update", logger: logger
            ).decode((String, Int32?).self) {
                found = (State(rawValue: state) ?? .failed, backend)
            }
            guard let (state, backend) = found else { return nil }
            if state.isDone {
                try await connection.query("delete from hist_queries where id = \(id)", logger: logger)
                return (state, nil)
            }
            try await connection.query(
                """
                update hist_queries set state = 'CANCELLED', finished_at = now(), error = 'cancelled by DELETE', bytes = 0 where id = \(id)
                """,
                logger: logger
            )
            try await connection.query("delete from hist_rows where query_id = \(id)", logger: logger)
            return (state, state == .running ? backend : nil)
        }
    }

    /// Claims the oldest queued query for `runner`.
    func claim(runner: UUID, logger: Logger) async throws -> Job? {
        let rows = try await client.query(
            """
            update hist_queries set state = 'RUNNING', started_at = now(), runner = \(runner)
            where id = (select id from hist_queries where state = 'QUEUED' order by submitted_at limit 1 for update skip locked)
            returning id, sql, domains
            """,
            logger: logger
        )
        for try await (id, sql, domains) in rows.decode((UUID, String, [String]?).self) { return Job(id: id, sql: sql, domains: domains) }
        return nil
    }

    /// Lets the history backend `pid` read `domains` (nil: all) for query `id`, and names it on the query
    /// so that a DELETE can stop it.
    func grant(_ pid: Int32, domains: [String]?, query id: UUID, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                insert into hist_grants (backend_pid, domains) values (\(pid), \(domains))
                on conflict (backend_pid) do update set domains = excluded.domains
                """,
                logger: logger
            )
            try await connection.query("update hist_queries set backend_pid = \(pid) where id = \(id)", logger: logger)
        }
    }

    func revoke(_ pid: Int32, logger: Logger) async throws {
        try await client.query("delete from hist_grants where backend_pid = \(pid)", logger: logger)
    }

    /// Stores result rows numbered from `first`, unless the query stopped running (a DELETE cancelled it).
    /// - Returns: whether it still runs.
    func append(_ id: UUID, first: Int, rows: [String], bytes: Int, logger: Logger) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            var running = false
            for try await _ in try await connection.query(
                "update hist_queries set bytes = bytes + \(bytes) where id = \(id) and state = 'RUNNING' returning 1", logger: logger
            ) {
                running = true
            }
            guard running else { return false }
            try await connection.query(
                """
                insert into hist_rows (query_id, row_number, cells)
                select \(id), \(first) + n - 1, cells from unnest(\(rows)::text[]) with ordinality as r (cells, n)
                """,
                logger: logger
            )
            return true
        }
    }

    func finish(_ id: UUID, rows: Int64, columns: String, logger: Logger) async throws {
        try await client.query(
            """
            update hist_queries set state = 'FINISHED', finished_at = now(), row_count = \(rows), columns = \(columns), backend_pid = null
            where id = \(id) and state = 'RUNNING'
            """,
            logger: logger
        )
    }

    /// Marks a running query FAILED with `reason` and removes any rows it stored.
    /// - Returns: whether it was running (not cancelled or expired meanwhile).
    @discardableResult
    func fail(_ id: UUID, reason: String, logger: Logger) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            var failed = false
            for try await _ in try await connection.query(
                """
                update hist_queries set state = 'FAILED', finished_at = now(), error = \(reason), bytes = 0, backend_pid = null
                where id = \(id) and state = 'RUNNING' returning 1
                """,
                logger: logger
            ) {
                failed = true
            }
            if failed { try await connection.query("delete from hist_rows where query_id = \(id)", logger: logger) }
            return failed
        }
    }

    /// Stops a history backend's statement (a DELETE, or a result past its row cap).
    func cancelBackend(_ pid: Int32, logger: Logger) async throws {
        for try await _ in try await client.query(
            "select pg_cancel_backend(pid) from pg_stat_activity where pid = \(pid) and usename = \(HistorySchema.role)", logger: logger
        ) {}
    }

    /// This runner is alive.
    func heartbeat(_ runner: UUID, logger: Logger) async throws {
        try await client.query(
            "insert into hist_runners (instance, seen_at) values (\(runner), now()) on conflict (instance) do update set seen_at = now()",
            logger: logger
        )
    }

    /// Fails `runner`'s running queries with `reason` (it is stopping), and stops their statements.
    func failRunning(of runner: UUID, reason: String, logger: Logger) async throws {
        var binds = PostgresBindings()
        binds.append(runner)
        try await failRunning(where: "runner = $1", binds: binds, reason: reason, logger: logger)
        try await client.query("delete from hist_runners where instance = \(runner)", logger: logger)
    }

    /// Fails the running queries of runners silent for longer than `silence` (a query service that
    /// stopped without saying so), and stops their statements.
    func failOrphans(silentFor silence: Duration, reason: String, logger: Logger) async throws {
        var binds = PostgresBindings()
        binds.append(silence.fractionalSeconds)
        try await failRunning(
            where: "not exists (select 1 from hist_runners r where r.instance = runner and r.seen_at > now() - $1 * interval '1 second')",
            binds: binds, reason: reason, logger: logger
        )
        try await client.query("delete from hist_runners where seen_at < now() - interval '1 hour'", logger: logger)
    }

    private func failRunning(where condition: String, binds: PostgresBindings, reason: String, logger: Logger) async throws {
        var all = binds
        all.append(reason)
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    with failed as (
                        update hist_queries set state = 'FAILED', finished_at = now(), error = $\(all.count), bytes = 0
                        where state = 'RUNNING' and \(condition)
                        returning id, backend_pid
                    ), cleared as (
                        delete from hist_rows where query_id in (select id from failed)
                    )
                    select backend_pid from failed where backend_pid is not null
                    """, binds: all),
            logger: logger
        )
        for try await pid in rows.decode(Int32.self) { try await cancelBackend(pid, logger: logger) }
    }

    /// Removes results past their retention, and grants of backends that are gone.
    /// - Returns: how many queries expired.
    func expire(logger: Logger) async throws -> Int {
        var expired = 0
        for try await count in try await client.query(
            "with gone as (delete from hist_queries where expires_at <= now() returning 1) select count(*)::int from gone", logger: logger
        ).decode(Int.self) {
            expired = count
        }
        try await client.query(
            "delete from hist_grants g where not exists (select 1 from pg_stat_activity a where a.pid = g.backend_pid and a.usename = \(HistorySchema.role))",
            logger: logger
        )
        return expired
    }

    /// Queries waiting, and result bytes held.
    func load(logger: Logger) async throws -> (queued: Int, bytes: Int64) {
        for try await (queued, bytes) in try await client.query(
            "select count(*) filter (where state = 'QUEUED')::int, coalesce(sum(bytes), 0)::int8 from hist_queries", logger: logger
        ).decode((Int, Int64).self) {
            return (queued, bytes)
        }
        return (0, 0)
    }
}
