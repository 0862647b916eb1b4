import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SluiceAuth
import SluiceModel
import SluiceRuntime

/// One label matcher as Prometheus writes them: `k=v`, `k!=v`, `k=~re`, `k!~re`, the value optionally in
/// double quotes. As in Prometheus, a series without the label has it empty (so `k!=v` matches it and
/// `k=v` does not), a regular expression matches the whole value, and `__name__` is the series' name.
/// The expressions are PostgreSQL's (POSIX advanced), which agree with RE2 on everything but exotica.
struct LabelMatcher: Sendable, Equatable {
    enum Operation: String, Sendable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case matches = "=~"
        case notMatches = "!~"
    }

    var label: String
    var operation: Operation
    var value: String

    /// The label name: a Prometheus label name, or `__name__`.
    static func isLabelName(_ text: Substring) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    /// Parses `k=v` and the like; nil when it is none of them.
    static func parse(_ text: String) -> LabelMatcher? {
        guard let index = text.firstIndex(where: { $0 == "=" || $0 == "!" }) else { return nil }
        let label = text[..<index]
        let rest = text[index...]
        // Longest operator first: "=~" before "=".
        guard let operation = [Operation.matches, .notMatches, .notEqual, .equal].first(where: { rest.hasPrefix($0.rawValue) }),
            isLabelName(label.trimmingCharacters(in: .whitespaces)[...])
        else { return nil }
        var value = rest.dropFirst(operation.rawValue.count).trimmingCharacters(in: .whitespaces)
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
        }
        return LabelMatcher(label: label.trimmingCharacters(in: .whitespaces), operation: operation, value: value)
    }
}

/// `GET /series`: the series of a domain, found by name (exactly or by prefix) and label matchers, in
/// pages.
struct SeriesSearchRequest: Sendable, Equatable {
    static let defaultLimit = 100
    static let maximumLimit = 1000

    var domain: String
    var name: String?
    var prefix: String?
    var matchers: [LabelMatcher]
    var limit: Int
    /// The page after the series with this id (the previous page's `next`).
    var after: Int64

    static func parse(_ parameters: [(String, String)]) throws(APIError) -> SeriesSearchRequest {
        func bad(_ message: String) -> APIError { APIError(.badRequest, message) }
        func single(_ name: String) -> String? { parameters.first { $0.0 == name }?.1 }
        for (name, value) in parameters where value.unicodeScalars.contains(where: MeasurementLimits.isControl) {
            throw bad("\(name) must not hold control characters")
        }
        let domain = single("domain") ?? Measurement.defaultDomain
        if let problem = MeasurementLimits.problem(withDomain: domain) { throw bad(problem) }
        var matchers: [LabelMatcher] = []
        for (name, text) in parameters where name == "match[]" || name == "match" {
            guard let matcher = LabelMatcher.parse(text) else {
                throw bad("match[] must be a label matcher: k=v, k!=v, k=~regex or k!~regex (got \(JSONText.quoted(text)))")
            }
            matchers.append(matcher)
        }
        var limit = defaultLimit
        if let text = single("limit") {
            guard let value = Int(text), (1...maximumLimit).contains(value) else { throw bad("limit must be an integer from 1 to \(maximumLimit)") }
            limit = value
        }
        var after: Int64 = 0
        if let text = single("after") {
            guard let value = Int64(text), value >= 0 else { throw bad("after must be the next value of the previous page") }
            after = value
        }
        return SeriesSearchRequest(domain: domain, name: single("name"), prefix: single("prefix"), matchers: matchers, limit: limit, after: after)
    }
}

/// Finds series with one statement: the name and the `=` matchers through the indexes (`series_by_name`,
/// and the labels' GIN index by containment), the other matchers on what those leave, in id order from the
/// page's start. Each found series' first and last time are two index probes.
struct SeriesSearch: Sendable {
    struct Found: Encodable, Sendable, Equatable {
        /// The series' one text form, as `/api` and `/save` address it.
        var series: String
        var name: String
        var labels: [String: String]
        /// Nanoseconds since the epoch; nil for a series whose rows have all expired.
        var first_time: Int64?
        var last_time: Int64?
    }

    struct Page: Encodable, Sendable {
        var series: [Found]
        /// `after` for the next page; nil on the last.
        var next: String?
    }

    let client: PostgresClient

    func page(_ request: SeriesSearchRequest, logger: Logger) async throws -> Page {
        // Equalities with a value are containment, which the GIN index answers; the rest are checked per row.
        var contained: [String: String] = [:]
        var name = request.name
        var checks: [(label: String, operation: String, value: String)] = []
        for matcher in request.matchers {
            if matcher.label == "__name__", matcher.operation == .equal {
                if let earlier = name, earlier != matcher.value { return Page(series: [], next: nil) }
                name = matcher.value
            } else if matcher.operation == .equal, !matcher.value.isEmpty, contained[matcher.label] == nil || contained[matcher.label] == matcher.value {
                contained[matcher.label] = matcher.value
            } else {
                checks.append((matcher.label, matcher.operation.rawValue, matcher.value))
            }
        }
        let containedJSON = String(decoding: try JSONEncoder.sorted.encode(contained), as: UTF8.self)
        let rows = try await client.query(
            """
            select s.id, s.tag, s.name, s.labels::text,
                   (select ts from measurements m where m.series_id = s.id order by ts asc limit 1),
                   (select ts from measurements m where m.series_id = s.id order by ts desc limit 1)
            from series s
            where s.domain = \(request.domain) and s.id > \(request.after)
              and (\(name)::text is null or s.name = \(name))
              and (\(request.prefix)::text is null or starts_with(s.name, \(request.prefix)))
              and s.labels @> \(containedJSON)::jsonb
              and not exists (
                  select 1 from unnest(\(checks.map(\.label))::text[], \(checks.map(\.operation))::text[], \(checks.map(\.value))::text[]) as c(label, op, value)
                  cross join lateral (select case when c.label = '__name__' then s.name else coalesce(s.labels ->> c.label, '') end as have) h
                  where not case c.op
                      when '=' then h.have = c.value
                      when '!=' then h.have <> c.value
                      when '=~' then h.have ~ ('^(?:' || c.value || ')$')
                      else h.have !~ ('^(?:' || c.value || ')$')
                  end
              )
            order by s.id
            limit \(request.limit)
            """,
            logger: logger
        )
        var found: [Found] = []
        var lastID: Int64 = 0
        for try await (id, tag, seriesName, labelsText, first, last) in rows.decode((Int64, String, String, String, Int64?, Int64?).self) {
            let labels = (try? JSONDecoder().decode([String: String].self, from: Data(labelsText.utf8))) ?? [:]
            found.append(Found(series: tag, name: seriesName, labels: labels, first_time: first, last_time: last))
            lastID = id
        }
        return Page(series: found, next: found.count == request.limit ? String(lastID) : nil)
    }
}

/// `GET /series`, behind the service's keys: read rights on the domain.
struct SeriesRoute: Sendable {
    let search: SeriesSearch
    let limit: InFlightLimit

    func handle(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let parameters = request.decodedQueryParameters
        let searchRequest = try SeriesSearchRequest.parse(parameters)
        try context.access.require(.read, domain: searchRequest.domain)
        let page = try await answeringDatabaseFailures("the search", advice: "narrow it", logger: context.logger) {
            do {
                return try await limit.runOrRefuse { try await search.page(searchRequest, logger: context.logger) }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == PostgresError.Code.invalidRegularExpression.raw {
                throw APIError(.badRequest, "a match[] regular expression is not valid: \(error.serverInfo?[.message] ?? "")")
            }
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.sorted.encode(page))))
    }
}
