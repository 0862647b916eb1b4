import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Prometheus
import Query
import SluiceRuntime
import SluiceStorage
import SluiceTestSupport
import Synchronization
import Testing

@testable import SluiceAuth

/// Seed 001's history queries, in-process against a real PostgreSQL: submit, poll, page; isolation that
/// PostgreSQL enforces (every trick to read another domain's rows gets none, or is refused); the
/// statement timeout and the row cap; cancelling; the queue limit; expiry; and a restart in the middle
/// of a query.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct HistoryRouteTests {
    /// ACME reads `acme`; OTHER reads `other`; ALL reads every domain.
    static let keys = RouteTestKeys.keys(["ACME": "acme:r", "OTHER": "other:r", "ALL": "*:r"])

    static func bearer(_ id: String) -> HTTPFields { RouteTestKeys.bearer(id) }

    /// Runs `body` against the query application on `database` (migrated before `body` runs).
    func withQuery(
        _ database: TestDatabase, auth: Bool = false, configure: (inout HistorySettings) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        var configuration = try QueryConfiguration.fromEnvironment(EnvironmentReader(database.serviceEnvironment))
        configuration.history.sweepInterval = .milliseconds(100)
        configure(&configuration.history)
        if auth {
            configuration.auth = RouteTestKeys.required
        }
        let app = buildQueryApplication(
            configuration: configuration, registry: PrometheusCollectorRegistry(), keys: Self.keys, logger: Logger(label: "history-test"))
        try await app.test(.router) { client in
            // Ready once the schema is there and, with auth, the keys are read.
            for _ in 0..<100 {
                let probe = try await client.execute(
                    uri: "/v0/data_hist/status/00000000-0000-0000-0000-000000000000", method: .get, headers: auth ? Self.bearer("ALL") : [:])
                if probe.status == .notFound { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await body(client)
        }
    }

    /// The schema, and rows in two domains: series `a` (acme) with `count` points, `b` (other) with 10.
    func load(_ postgres: PostgresClient, count: Int) async throws {
        try await SchemaMigrator(partitionCount: 4).migrate(postgres, logger: Logger(label: "history-test"))
        _ = try await postgres.query("insert into series (domain, tag) values ('acme', 'a'), ('other', 'b')")
        _ = try await postgres.query(
            """
            insert into measurements (series_id, ts, vals)
            select (select id from series where tag = 'a'), 1700000000000000000 + i::bigint * 1000000000, array[i * 0.5, -i]
            from generate_series(0, \(count) - 1) as i
            """
        )
        _ = try await postgres.query(
            """
            insert into measurements (series_id, ts, vals)
            select (select id from series where tag = 'b'), 1700000000000000000 + i::bigint * 1000000000, array[999.0]
            from generate_series(0, 9) as i
            """
        )
    }

    /// Every value in a cell, arrays opened, as text.
    static func leaves(_ value: Any) -> [String] {
        if let array = value as? [Any] { return array.flatMap(leaves) }
        return ["\(value)"]
    }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any], "\(String(buffer: response.body))")
    }

    static func body(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(data: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    /// Submits `sql`: the id, or the refusal's status and code.
    func submit(_ client: any TestClientProtocol, _ sql: String, retention: Int? = nil, key: String? = nil) async throws -> (
        id: String?, status: HTTPResponse.Status, code: String?
    ) {
        var object: [String: Any] = ["query": sql]
        if let retention { object["retention_minutes"] = retention }
        let response = try await client.execute(uri: "/v0/data_hist/query", method: .post, headers: key.map(Self.bearer) ?? [:], body: Self.body(object))
        let answer = try Self.object(response)
        return (answer["query_id"] as? String, response.status, answer["code"] as? String)
    }

    func status(_ client: any TestClientProtocol, _ id: String, key: String? = nil) async throws -> (status: HTTPResponse.Status, body: [String: Any]) {
        let response = try await client.execute(uri: "/v0/data_hist/status/\(id)", method: .get, headers: key.map(Self.bearer) ?? [:])
        return (response.status, try Self.object(response))
    }

    /// Polls until the query is done (FINISHED, FAILED or CANCELLED); its last status.
    func finished(_ client: any TestClientProtocol, _ id: String, key: String? = nil) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        for _ in 0..<300 {
            last = try await status(client, id, key: key).body
            if let state = last["state"] as? String, ["FINISHED", "FAILED", "CANCELLED"].contains(state) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        return last
    }

    func next(_ client: any TestClientProtocol, _ id: String, token: String? = nil, perPage: Int? = nil, key: String? = nil) async throws -> (
        status: HTTPResponse.Status, body: [String: Any]
    ) {
        var object: [String: Any] = ["query_id": id]
        if let token { object["paging_token"] = token }
        if let perPage { object["results_per_page"] = perPage }
        let response = try await client.execute(uri: "/v0/data_hist/next", method: .post, headers: key.map(Self.bearer) ?? [:], body: Self.body(object))
        return (response.status, try Self.object(response))
    }

    /// Every row of a finished result, page by page.
    func rows(_ client: any TestClientProtocol, _ id: String, key: String? = nil) async throws -> [[Any]] {
        var rows: [[Any]] = []
        var token: String?
        repeat {
            let page = try await next(client, id, token: token, key: key)
            #expect(page.status == .ok, "\(page.body)")
            rows += (page.body["rows"] as? [[Any]]) ?? []
            token = page.body["next_paging_token"] as? String
        } while token != nil
        return rows
    }

    @Test func submitPollAndReadStablePagesOfAtMostAThousandRows() async throws {
        try await TestDatabase.with { database, postgres in
            try await load(postgres, count: 2500)
            try await withQuery(database) { client in
                let sql = "select time_ns, vals[1] as first, time from hist.metrics where tag = 'a' order by time_ns"
                let submitted = try await submit(client, sql)
                let id = try #require(submitted.id, "\(submitted)")
                let done = try await finished(client, id)
                #expect(done["state"] as? String == "FINISHED" && done["rows"] as? Int == 2500, "\(done)")
                #expect(done["submitted_at"] is String && done["started_at"] is String && done["finished_at"] is String)

                // 1000, 1000, 500, each page what the same query says, the same token giving the same page.
                var expected: [(Int64, Double)] = []
                for try await row in try await postgres.query(
                    "select ts, vals[1] from measurements where series_id = (select id from series where tag = 'a') order by ts"
                ).decode((Int64, Double).self) {
                    expected.append(row)
                }
                let first = try await next(client, id)
                #expect(first.status == .ok)
                let columns = try #require(first.body["columns"] as? [[String: String]])
                #expect(
                    columns == [
                        ["name": "time_ns", "type": "bigint"], ["name": "first", "type": "double precision"], ["name": "time", "type": "timestamptz"],
                    ])
                let token = try #require(first.body["next_paging_token"] as? String)
                let second = try await next(client, id, token: token)
                let again = try await next(client, id, token: token)
                #expect(NSDictionary(dictionary: second.body) == NSDictionary(dictionary: again.body))
                let third = try await next(client, id, token: try #require(second.body["next_paging_token"] as? String))
                #expect(third.body["next_paging_token"] is NSNull)
                let pages = [first, second, third].map { ($0.body["rows"] as? [[Any]]) ?? [] }
                #expect(pages.map(\.count) == [1000, 1000, 500])
                let got = pages.flatMap { $0 }.map { (($0[0] as? NSNumber)?.int64Value ?? -1, ($0[1] as? NSNumber)?.doubleValue ?? .nan) }
                #expect(got.map(\.0) == expected.map(\.0) && got.map(\.1) == expected.map(\.1))
                // Times to the microsecond, in UTC.
                #expect((pages[0][1][2] as? String) == "2023-11-14T22:13:21Z", "\(pages[0][1])")

                // Smaller pages; bad sizes, tokens and ids.
                let small = try await next(client, id, perPage: 7)
                #expect((small.body["rows"] as? [[Any]])?.count == 7)
                #expect(try await next(client, id, perPage: 0).body["code"] as? String == "InvalidPageSize")
                #expect(try await next(client, id, perPage: 1001).status == .badRequest)
                #expect(try await next(client, id, token: "not-a-token").body["code"] as? String == "InvalidPagingToken")
                let elsewhere = try #require(try await submit(client, "select 1").id)
                _ = try await finished(client, elsewhere)
                #expect(try await next(client, elsewhere, token: token).body["code"] as? String == "InvalidPagingToken")
                #expect(try await next(client, UUID().uuidString).status == .notFound)
                #expect(try await status(client, "nonsense").status == .notFound)

                // What the SQL cannot say is refused at submission.
                #expect(try await submit(client, "selec 1").code == "InvalidQuerySyntax")
                #expect(try await submit(client, "select 1; select 2").code == "InvalidQuerySyntax")
                #expect(try await submit(client, "select * from hist.nothing").code == "UndefinedObject")
                #expect(try await submit(client, "select 1", retention: 0).code == "InvalidRetention")
                #expect(try await submit(client, "select 1", retention: 10081).status == .badRequest)
            }
        }
    }

    @Test func anotherDomainsRowsStayUnreadableWhateverTheSQLTries() async throws {
        try await TestDatabase.with { database, postgres in
            try await load(postgres, count: 20)
            try await withQuery(database, auth: true, configure: { $0.statementTimeout = .seconds(1) }) { client in
                // Each attempt is refused at submission, fails, or finishes without a row of `other`.
                let attempts = [
                    "select * from hist.metrics where domain = 'other'",
                    "select * from hist.metrics where domain = 'acme' /* */ or domain = 'other' --",
                    "select * from \"hist\".\"metrics\" where tag = 'b'",
                    "with x as (select * from hist.metrics) select * from x where domain <> 'acme'",
                    "select tag, domain from hist.series union all select relname::text, 'x' from pg_class",
                    "select set_config('role', 'sluice', true), (select count(*) from hist.metrics where domain = 'other')",
                    "select current_setting('is_superuser'), (select count(*) from hist.metrics where vals[1] = 999)",
                    "select * from measurements",
                    "select * from series",
                    "select * from hist_grants",
                    "update hist_grants set domains = null",
                    "delete from hist_grants",
                    "insert into hist.metrics (domain) values ('x')",
                    "create table stolen as select * from hist.metrics",
                    "reset role",
                    "set role sluice",
                    "set session authorization sluice",
                    "select pg_read_file('/etc/passwd')",
                    "select * from pg_authid",
                    "select 1; update hist_grants set domains = null",
                    "copy (select * from hist.metrics) to '/tmp/stolen'",
                    "select query from pg_stat_activity",
                    "select pg_cancel_backend(pid) from pg_stat_activity",
                    "select pg_terminate_backend(1)",
                ]
                for sql in attempts {
                    let submitted = try await submit(client, sql, key: "ACME")
                    guard let id = submitted.id else {
                        #expect(submitted.status == .badRequest, "\(sql): \(submitted)")
                        continue
                    }
                    let done = try await finished(client, id, key: "ACME")
                    guard done["state"] as? String == "FINISHED" else {
                        #expect(done["state"] as? String == "FAILED", "\(sql): \(done)")
                        continue
                    }
                    let found = try await rows(client, id, key: "ACME")
                    let text = found.map { "\($0)" }.joined(separator: "\n")
                    // Cell by cell, not as text: a catalog name such as pg_toast_49995 holds "999" by chance.
                    let cells = found.flatMap { $0.flatMap(Self.leaves) }
                    #expect(!cells.contains { $0 == "other" || $0 == "b" || Double($0) == 999 }, "\(sql) read another domain: \(text)")
                    // Counts over `other` count nothing.
                    if sql.contains("count(*)") { #expect(text.contains(", 0]") || text.contains(",0]") || text.contains(" 0)"), "\(sql): \(text)") }
                }

                // One caller cannot watch or stop another's query: every backend of the role is the same role.
                for sql in [
                    "select query from pg_stat_activity", "select pg_cancel_backend(1)", "select pg_terminate_backend(1)",
                    "select * from pg_stat_get_activity(null)",
                ] {
                    let refused = try await submit(client, sql, key: "ACME")
                    #expect(refused.status == .badRequest && refused.code == "PermissionDenied", "\(sql): \(refused)")
                }

                // The owner sees its rows; a key for another domain does not see the query at all.
                let mine = try #require(try await submit(client, "select count(*) from hist.metrics", key: "ACME").id)
                #expect(try await finished(client, mine, key: "ACME")["state"] as? String == "FINISHED")
                #expect(try await rows(client, mine, key: "ACME").first?.first as? Int == 20)
                #expect(try await status(client, mine, key: "OTHER").status == .notFound)
                #expect(try await next(client, mine, key: "OTHER").status == .notFound)
                let everything = try #require(try await submit(client, "select count(*) from hist.metrics", key: "ALL").id)
                _ = try await finished(client, everything, key: "ALL")
                #expect(try await rows(client, everything, key: "ALL").first?.first as? Int == 30)

                // Past the statement timeout, whatever the SQL sets: FAILED with the reason.
                let sleeper = try #require(try await submit(client, "select set_config('statement_timeout', '0', true), pg_sleep(4)", key: "ACME").id)
                let slept = try await finished(client, sleeper, key: "ACME")
                #expect(slept["state"] as? String == "FAILED" && (slept["error"] as? String)?.contains("statement timeout") == true, "\(slept)")
            }
        }
    }

    /// The tiers through `hist.minutes` and `hist.hours`: each row equals the raw rows' aggregate, only the
    /// key's domains, and a minute marked for rebuilding (and its hour) is left out until it is rebuilt.
    @Test func theTierViewsEqualTheRawRowsAndHideMarkedBuckets() async throws {
        try await TestDatabase.with { database, postgres in
            try await load(postgres, count: 300)  // `a`: 1 s apart over five minutes; `b` (other): ten points
            // A point two hours on closes the minutes and the hour before it (its own minute stays open).
            _ = try await postgres.query(
                "insert into measurements (series_id, ts, vals) select id, 1700007200000000000, array[1.0, 1.0] from series where tag = 'a'"
            )
            _ = try await RollupRebuild.rebuild(postgres, logger: Logger(label: "history-test"))
            var rawRows: [[Double]] = []
            let rawQuery: PostgresQuery = """
                select (ts / 60000000000 * 60000000000)::float8, count(*)::float8, sum(vals[1]), min(vals[2]), max(vals[2])
                from measurements where series_id = (select id from series where tag = 'a') group by 1 order by 1
                """
            for try await (bucket, count, sum, low, high) in try await postgres.query(rawQuery).decode((Double, Double, Double, Double, Double).self) {
                rawRows.append([bucket, count, sum, low, high])
            }
            let raw = Array(rawRows.dropLast())  // the newest minute has no row: it is not closed
            try await withQuery(database, auth: true) { client in
                let sql = "select bucket_ns, counts[1], sums[1], mins[2], maxs[2], domain from hist.minutes order by bucket_ns"
                let id = try #require(try await submit(client, sql, key: "ACME").id)
                #expect(try await finished(client, id, key: "ACME")["state"] as? String == "FINISHED")
                let minutes = try await rows(client, id, key: "ACME")
                #expect(minutes.allSatisfy { $0[5] as? String == "acme" })
                let got = minutes.map { $0[0..<5].map { ($0 as? NSNumber)?.doubleValue ?? .nan } }
                #expect(got == raw, "\(got) against \(raw)")
                let hours = try #require(try await submit(client, "select sum(counts[1]) from hist.hours", key: "ACME").id)
                _ = try await finished(client, hours, key: "ACME")
                #expect(try await rows(client, hours, key: "ACME").first?.first as? Int == 300)

                // A mark on the second minute hides that minute and its hour until the refresher rebuilds them.
                let marked = Int64(raw[1][0])
                _ = try await postgres.query(
                    "insert into rollup_marks (series_id, first_bucket, last_bucket, reason) select id, \(marked), \(marked), 'late' from series where tag = 'a'"
                )
                let after = try #require(try await submit(client, "select bucket_ns from hist.minutes union all select -1 from hist.hours", key: "ACME").id)
                _ = try await finished(client, after, key: "ACME")
                let left = try await rows(client, after, key: "ACME").compactMap { ($0.first as? NSNumber)?.int64Value }
                #expect(!left.contains(marked) && !left.contains(-1) && left.count == raw.count - 1, "\(left)")
            }
        }
    }

    @Test func rowCapCancellingQueueLimitAndExpiry() async throws {
        try await TestDatabase.with { database, postgres in
            try await load(postgres, count: 300)
            try await withQuery(
                database,
                configure: {
                    $0.maxRows = 100
                    $0.workers = 1
                    $0.queueLimit = 2
                }
            ) { client in
                let big = try #require(try await submit(client, "select * from hist.metrics").id)
                let capped = try await finished(client, big)
                #expect(capped["state"] as? String == "FAILED" && (capped["error"] as? String)?.contains("more than 100 rows") == true, "\(capped)")
                #expect(try await next(client, big).body["code"] as? String == "QueryNotFinished")

                // One worker: a sleeper runs, the next waits, a third is one too many.
                let sleeper = try #require(try await submit(client, "select pg_sleep(30)").id)
                let waiting = try #require(try await submit(client, "select 1 as one").id)
                let third = try await submit(client, "select 2")
                #expect(third.status == .tooManyRequests && third.code == "QueueFull", "\(third)")
                for _ in 0..<100 where try await status(client, sleeper).body["state"] as? String != "RUNNING" {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(try await status(client, waiting).body["state"] as? String == "QUEUED")
                let cancel = try await client.execute(uri: "/v0/data_hist/query/\(sleeper)", method: .delete)
                #expect(cancel.status == .noContent)
                #expect(try await status(client, sleeper).body["state"] as? String == "CANCELLED")
                let after = try await finished(client, waiting)
                #expect(after["state"] as? String == "FINISHED", "\(after)")

                // Dropping a finished result forgets it.
                #expect(try await client.execute(uri: "/v0/data_hist/query/\(waiting)", method: .delete).status == .noContent)
                #expect(try await status(client, waiting).status == .notFound)

                // Expiry: a result whose retention has passed answers 404 and its rows go.
                let kept = try #require(try await submit(client, "select i from generate_series(1, 50) as i", retention: 1).id)
                #expect(try await finished(client, kept)["state"] as? String == "FINISHED")
                _ = try await postgres.query("update hist_queries set expires_at = now() - interval '1 second' where id = \(UUID(uuidString: kept)!)")
                #expect(try await status(client, kept).status == .notFound)
                var left = -1
                for _ in 0..<100 {
                    for try await count in try await postgres.query("select count(*)::int from hist_rows").decode(Int.self) { left = count }
                    if left == 0 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(left == 0)
            }
        }
    }

    @Test func aRestartFailsWhatRanAndKeepsWhatFinished() async throws {
        try await TestDatabase.with { database, postgres in
            try await load(postgres, count: 5)
            let ids = Mutex((done: "", interrupted: ""))
            try await withQuery(database) { client in
                let finishedID = try #require(try await submit(client, "select tag from hist.series order by tag").id)
                #expect(try await finished(client, finishedID)["state"] as? String == "FINISHED")
                let sleeperID = try #require(try await submit(client, "select pg_sleep(60)").id)
                for _ in 0..<100 where try await status(client, sleeperID).body["state"] as? String != "RUNNING" {
                    try await Task.sleep(for: .milliseconds(20))
                }
                ids.withLock { $0 = (finishedID, sleeperID) }
            }
            // A query service that vanished without a word: its query is failed once it stays silent.
            let orphan = UUID()
            _ = try await postgres.query(
                "insert into hist_queries (id, sql, state, expires_at, started_at, runner) values (\(orphan), 'select 1', 'RUNNING', now() + interval '1 hour', now(), \(UUID()))"
            )
            let (done, interrupted) = ids.withLock { $0 }
            try await withQuery(database) { client in
                let stopped = try await status(client, interrupted).body
                #expect(stopped["state"] as? String == "FAILED" && (stopped["error"] as? String)?.contains("stopped") == true, "\(stopped)")
                #expect(try await rows(client, done).map { $0.first as? String } == ["a", "b"])
                let failedOrphan = try await finished(client, orphan.uuidString)
                #expect(failedOrphan["state"] as? String == "FAILED", "\(failedOrphan)")
            }
        }
    }
}
