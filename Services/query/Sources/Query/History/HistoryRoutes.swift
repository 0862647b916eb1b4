import Foundation
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import SluiceAuth
import SluiceRuntime
import SluiceStorage

/// Seed 001's historical queries, behind the service's keys: `POST /v0/data_hist/query` submits SQL over
/// the `hist` views (checked by PostgreSQL at once: it must plan as one statement the history role may
/// run), `GET /v0/data_hist/status/{id}` polls it, `POST /v0/data_hist/next` reads its result in pages,
/// `DELETE /v0/data_hist/query/{id}` cancels or drops it. A query reads the domains its key may read; a
/// query is visible only to keys that may read every domain it was given.
struct HistoryRoutes: Sendable {
    let store: HistoryStore
    let history: PostgresClient
    let settings: HistorySettings
    let maxBodyBytes = 1 << 20
    let metrics = HistoryMetrics()

    func register(on group: RouterGroup<SluiceRequestContext>) {
        group.post("/v0/data_hist/query") { request, context in try await answering(context) { try await submit(request, context: context) } }
        group.get("/v0/data_hist/status/:query_id") { _, context in try await answering(context) { try await status(context) } }
        group.post("/v0/data_hist/next") { request, context in try await answering(context) { try await next(request, context: context) } }
        group.delete("/v0/data_hist/query/:query_id") { _, context in try await answering(context) { try await cancel(context) } }
    }

    /// The service's bookkeeping reads are short: one failing is the database's side, answered as every route answers it.
    private func answering(_ context: SluiceRequestContext, _ body: () async throws -> Response) async throws -> Response {
        try await answeringDatabaseFailures("the history request", advice: "wait", logger: context.logger, body)
    }

    /// A refusal in seed 001's shape: `{"error", "code"}`.
    static func refusal(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> APIError {
        APIError(status, message, details: ["code": .string(code)])
    }

    struct Submission: Decodable {
        var query: String
        var retention_minutes: Int?
    }

    private func submit(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let submission: Submission = try await Self.decode(request, context: context, maxBytes: maxBodyBytes)
        let retention = submission.retention_minutes ?? 60
        guard (1...10080).contains(retention) else {
            throw Self.refusal(.badRequest, "InvalidRetention", "retention_minutes must be 1–10080 (a week); got \(retention)")
        }
        guard !submission.query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw Self.refusal(
                .badRequest, "InvalidQuerySyntax", "query is empty; write one SELECT over the hist views (hist.metrics, hist.series, hist.minutes, hist.hours)")
        }
        guard !submission.query.unicodeScalars.contains("\u{0}") else {
            throw Self.refusal(.badRequest, "InvalidQuerySyntax", "query holds a NUL character, which PostgreSQL cannot read")
        }
        let domains = context.access.domains(allowing: .read)
        if let domains, domains.isEmpty {
            throw APIError(
                .forbidden, "this key may read no domain, and a history query reads only what its key may read", details: ["forbidden_domains": .array([])])
        }
        try await check(submission.query, logger: context.logger)
        guard
            let id = try await store.submit(
                sql: submission.query, domains: domains, retentionMinutes: retention, queueLimit: settings.queueLimit, logger: context.logger
            )
        else {
            metrics.refused.increment()
            throw APIError(
                .tooManyRequests, "\(settings.queueLimit) history queries are queued or running (SLUICE_HIST_QUEUE_LIMIT); try again when some finish",
                details: ["code": .string("QueueFull")], headers: [.retryAfter: "10"]
            )
        }
        metrics.submitted.increment()
        return .json("{\"query_id\":\"\(id.uuidString.lowercased())\"}")
    }

    /// PostgreSQL plans the SQL as the history role, in a read-only transaction: anything that is not one
    /// statement the role may run (a syntax error, two statements, a table it may not read, a write) is
    /// refused now rather than failing later.
    private func check(_ sql: String, logger: Logger) async throws {
        do {
            try await history.withConnection { connection in
                try await connection.readOnlyTransaction(timeout: .seconds(5), logger: logger) {
                    // Read to the end: PostgreSQL checks privileges when the plan starts, after the
                    // plan's column was described, so a refusal arrives with the rows, not before them.
                    for try await _ in try await connection.query(PostgresQuery(unsafeSQL: "explain " + sql), logger: logger) {}
                }
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] != nil {
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? "PostgreSQL refused the query"
            let code =
                switch state {
                case PostgresError.Code.syntaxError.raw: "InvalidQuerySyntax"
                case PostgresError.Code.insufficientPrivilege.raw: "PermissionDenied"
                case PostgresError.Code.undefinedTable.raw, PostgresError.Code.undefinedColumn.raw, PostgresError.Code.undefinedFunction.raw: "UndefinedObject"
                case PostgresError.Code.readOnlySqlTransaction.raw: "NotReadOnly"
                case PostgresError.Code.queryCanceled.raw: "PlanningTimeout"
                default: "InvalidQuery"
                }
            throw Self.refusal(
                .badRequest, code,
                "PostgreSQL refused the query: \(message) (one SELECT over the hist views may run: hist.metrics, hist.series, hist.minutes, hist.hours)")
        }
    }

    private func status(_ context: SluiceRequestContext) async throws -> Response {
        let id = try Self.queryID(context.parameters.get("query_id"))
        let status = try await visible(id, context: context)
        var fields = [
            "\"query_id\":\"\(id.uuidString.lowercased())\"", "\"state\":\"\(status.state.rawValue)\"",
            "\"submitted_at\":\(JSONText.quoted(status.submittedAt))",
        ]
        fields.append("\"started_at\":" + (status.startedAt.map(JSONText.quoted) ?? "null"))
        fields.append("\"finished_at\":" + (status.finishedAt.map(JSONText.quoted) ?? "null"))
        fields.append("\"rows\":" + (status.rows.map(String.init) ?? "null"))
        fields.append("\"error\":" + (status.error.map(JSONText.quoted) ?? "null"))
        return .json("{" + fields.joined(separator: ",") + "}")
    }

    struct NextRequest: Decodable {
        var query_id: String
        var paging_token: String?
        var results_per_page: Int?
    }

    private func next(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let body: NextRequest = try await Self.decode(request, context: context, maxBytes: 64 << 10)
        let id = try Self.queryID(body.query_id)
        let perPage = body.results_per_page ?? 1000
        guard (1...1000).contains(perPage) else {
            throw Self.refusal(.badRequest, "InvalidPageSize", "results_per_page must be 1–1000; got \(perPage)")
        }
        let status = try await visible(id, context: context)
        guard status.state == .finished else {
            let why = status.state.isDone ? ": \(status.error ?? "no result")" : "; poll its status until it is FINISHED"
            throw Self.refusal(.conflict, "QueryNotFinished", "query \(id.uuidString.lowercased()) is \(status.state.rawValue)\(why)")
        }
        let from = try body.paging_token.map { try PagingToken.row(in: $0, of: id) } ?? 0
        guard let page = try await store.page(id, from: from, count: perPage, logger: context.logger), Int64(from) <= page.total else {
            throw Self.refusal(.badRequest, "InvalidPagingToken", "paging_token does not point into this query's result")
        }
        let end = from + page.rows.count
        let nextToken = Int64(end) < page.total ? JSONText.quoted(PagingToken.make(id, row: end)) : "null"
        return .json(
            "{\"query_id\":\"\(id.uuidString.lowercased())\",\"columns\":\(page.columns),\"rows\":[" + page.rows.joined(separator: ",")
                + "],\"next_paging_token\":\(nextToken)}"
        )
    }

    private func cancel(_ context: SluiceRequestContext) async throws -> Response {
        let id = try Self.queryID(context.parameters.get("query_id"))
        _ = try await visible(id, context: context)
        guard let (state, backend) = try await store.cancelOrDrop(id, logger: context.logger) else { throw Self.unknown(id) }
        if let backend { try await store.cancelBackend(backend, logger: context.logger) }
        if !state.isDone { metrics.cancelledQueries.increment() }
        return Response(status: .noContent)
    }

    /// The query's status, if it exists and the caller may read every domain it was given.
    private func visible(_ id: UUID, context: SluiceRequestContext) async throws -> HistoryStore.Status {
        guard let status = try await store.status(id, logger: context.logger) else { throw Self.unknown(id) }
        let mine = context.access.domains(allowing: .read)
        let covered: Bool =
            switch (mine, status.domains) {
            case (nil, _): true
            case (_, nil): false
            case (let mine?, let theirs?): Set(theirs).isSubset(of: mine)
            }
        guard covered else { throw Self.unknown(id) }
        return status
    }

    static func unknown(_ id: UUID) -> APIError {
        refusal(.notFound, "QueryNotFound", "no history query \(id.uuidString.lowercased()): unknown, dropped, or its result expired")
    }

    static func queryID(_ text: String?) throws -> UUID {
        guard let text, let id = UUID(uuidString: text) else {
            throw refusal(.notFound, "QueryNotFound", "\(JSONText.quoted(text ?? "")) is not a query_id")
        }
        return id
    }

    static func decode<T: Decodable>(_ request: Request, context: SluiceRequestContext, maxBytes: Int) async throws -> T {
        var request = request
        let body = try await request.collectBody(upTo: maxBytes)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch {
            throw refusal(.badRequest, "InvalidRequest", "the body is not the JSON this endpoint takes: \(describeDecodingFailure(error))")
        }
    }
}

/// Where the next page starts, for one query: opaque to clients, checked on return.
enum PagingToken {
    static func make(_ id: UUID, row: Int) -> String {
        Data("\(id.uuidString.lowercased()):\(row)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func row(in token: String, of id: UUID) throws -> Int {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            let colon = text.lastIndex(of: ":"), text[..<colon] == id.uuidString.lowercased(),
            let row = Int(text[text.index(after: colon)...]), row >= 0
        else {
            throw HistoryRoutes.refusal(.badRequest, "InvalidPagingToken", "paging_token is not one this query's pages gave")
        }
        return row
    }
}
