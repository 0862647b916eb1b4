import Foundation
import Logging
import PostgresNIO
import SluiceModel
import SluiceRuntime

/// Finds series by name and labels (KairosDB's metrics and tags) and lists names, label names and label
/// values, from the `series` table's `name` and `labels` columns.
struct KairosCatalog: Sendable {
    struct Series: Sendable {
        var id: Int64
        var labels: [String: String]
    }

    let client: PostgresClient
    /// The most series one metric of a query may match.
    let maximumSeries: Int

    /// The series of `domain` named `name` whose labels hold, for every filtered label, one of its values;
    /// more than `maximumSeries` of them is KairosDB's 400 asking for tag filters.
    func series(domain: String, name: String, filters: [String: [String]], logger: Logger) async throws -> [Series] {
        // A name or label with a control character (or NUL, which PostgreSQL text cannot hold) names no series.
        guard !Self.hasControl(name), !filters.contains(where: { Self.hasControl($0.key) || $0.value.contains(where: Self.hasControl) }) else { return [] }
        let filterJSON = String(decoding: try JSONEncoder().encode(filters), as: UTF8.self)
        let rows = try await client.query(
            """
            select s.id, s.labels::text from series s
            where s.domain = \(domain) and s.name = \(name)
              and not exists (
                  select 1 from jsonb_each(\(filterJSON)::jsonb) as f(label, wanted)
                  where (s.labels ->> f.label) is null
                     or not ((s.labels ->> f.label) = any (array(select jsonb_array_elements_text(f.wanted))))
              )
            order by s.id
            limit \(maximumSeries + 1)
            """,
            logger: logger
        )
        var found: [Series] = []
        for try await (id, labelsText) in rows.decode((Int64, String).self) {
            let labels = (try? JSONDecoder().decode([String: String].self, from: Data(labelsText.utf8))) ?? [:]
            found.append(Series(id: id, labels: labels))
        }
        guard found.count <= maximumSeries else {
            throw KairosError("metric \(name) matches more than \(maximumSeries) series; filter by tags")
        }
        return found
    }

    /// Every label value of the series, per label name, sorted: a KairosDB result's `tags`.
    static func tags(of series: [Series]) -> [String: [String]] {
        var tags: [String: Set<String>] = [:]
        for one in series { for (label, value) in one.labels { tags[label, default: []].insert(value) } }
        return tags.mapValues { $0.sorted() }
    }

    /// Distinct series names in the domain, starting with `prefix`, sorted.
    func names(domain: String, prefix: String?, logger: Logger) async throws -> [String] {
        if let prefix, Self.hasControl(prefix) { return [] }
        return try await strings(
            """
            select distinct name from series where domain = \(domain) and starts_with(name, \(prefix ?? "")) order by name
            """,
            logger: logger
        )
    }

    /// Distinct label names in the domain, sorted.
    func labelNames(domain: String, logger: Logger) async throws -> [String] {
        try await strings("select distinct jsonb_object_keys(labels) as k from series where domain = \(domain) order by k", logger: logger)
    }

    /// Distinct label values in the domain, sorted.
    func labelValues(domain: String, logger: Logger) async throws -> [String] {
        try await strings(
            "select distinct e.value from series s cross join jsonb_each_text(s.labels) as e where s.domain = \(domain) order by e.value",
            logger: logger
        )
    }

    private func strings(_ query: PostgresQuery, logger: Logger) async throws -> [String] {
        var found: [String] = []
        for try await value in try await client.query(query, logger: logger).decode(String.self) { found.append(value) }
        return found
    }

    static func hasControl(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: MeasurementLimits.isControl)
    }
}
