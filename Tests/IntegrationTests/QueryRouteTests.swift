import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Prometheus
import Query
import SluiceRuntime
import SluiceTestSupport
import Testing

@testable import SluiceAuth

/// The query service's routes, auth answers and JSON errors, driven in-process with `app.test(.router)`
/// against a real PostgreSQL: the application the process runs, with no process and no port. What needs
/// processes (signals, restarts, the pipeline) stays in EndToEndTests.
@Suite(.timeLimit(.minutes(1)))
struct QueryRouteTests {
    /// Key READER may read `acme` only.
    static let keys = RouteTestKeys.keys(["READER": "acme:r"])
    static let bearer = RouteTestKeys.bearer("READER")

    /// Runs `body` against the query application on a fresh database (migrated, and with auth its keys
    /// read, before `body` runs), with a client of that database to put rows in.
    func withQuery(auth: Bool, _ body: @Sendable (any TestClientProtocol, PostgresClient) async throws -> Void) async throws {
        try await TestDatabase.with { database, postgres in
            var configuration = try QueryConfiguration.fromEnvironment(EnvironmentReader(database.serviceEnvironment))
            if auth {
                configuration.auth = RouteTestKeys.required
            }
            let app = buildQueryApplication(
                configuration: configuration, registry: PrometheusCollectorRegistry(), keys: Self.keys, logger: Logger(label: "query-route-test")
            )
            try await app.test(.router) { client in
                // The directory reads its keys as the application starts; a request before that is told to wait.
                if auth {
                    try await RouteTestKeys.waitForKeys {
                        try await client.execute(uri: "/api?tag=t&domain=acme&start=-3600000000000", method: .get, headers: Self.bearer)
                    }
                }
                try await body(client, postgres)
            }
        }
    }

    @Test func badParametersAndUnknownSeriesAnswerJSONErrors() async throws {
        try await withQuery(auth: false) { client, _ in
            let missing = try await client.execute(uri: "/api?start=-3600000000000", method: .get)
            #expect(missing.status == .badRequest)
            #expect(try RouteErrorBody(missing).error.contains("tag"))
            let unknown = try await client.execute(uri: "/api?tag=nothing-here&start=-3600000000000", method: .get)
            #expect(unknown.status == .notFound)
            #expect(try RouteErrorBody(unknown).error.contains("nothing-here"))
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
        }
    }

    @Test func keysAreRequiredAndEveryRefusalNamesItsDomains() async throws {
        try await withQuery(auth: true) { client, _ in
            let anonymous = try await client.execute(uri: "/api?tag=t&start=-3600000000000", method: .get)
            #expect(anonymous.status == .unauthorized)
            #expect(try RouteErrorBody(anonymous).reason == "missing")
            let other = try await client.execute(uri: "/api?tag=t&domain=other&start=-3600000000000", method: .get, headers: Self.bearer)
            #expect(other.status == .forbidden)
            #expect(try RouteErrorBody(other).forbidden_domains == ["other"])
            // Its own domain: past auth, to the lookup (no such series).
            let own = try await client.execute(uri: "/api?tag=t&domain=acme&start=-3600000000000", method: .get, headers: Self.bearer)
            #expect(own.status == .notFound)
            // KairosDB's query route sits behind the same seam.
            let kairos = try await client.execute(
                uri: "/api/v1/other/datapoints/query", method: .post, headers: Self.bearer,
                body: ByteBuffer(string: #"{"start_relative": {"value": 1, "unit": "hours"}, "metrics": [{"name": "t"}]}"#)
            )
            #expect(kairos.status == .forbidden)
        }
    }

    struct SeriesPage: Decodable {
        struct Found: Decodable, Equatable {
            var series: String
            var name: String
            var labels: [String: String]
            var first_time: Int64?
            var last_time: Int64?
        }

        var series: [Found]
        var next: String?
    }

    /// Series search by name, prefix and each kind of label matcher, paged, with first and last times.
    @Test func seriesAreFoundByNameAndLabelMatchers() async throws {
        try await withQuery(auth: true) { client, postgres in
            try await postgres.query(
                """
                insert into series (domain, tag, name, labels) values
                    ('acme', 'cpu{host="a",dc="x"}', 'cpu', '{"host": "a", "dc": "x"}'),
                    ('acme', 'cpu{host="b",dc="y"}', 'cpu', '{"host": "b", "dc": "y"}'),
                    ('acme', 'cpu{host="c"}', 'cpu', '{"host": "c"}'),
                    ('acme', 'cpu_idle', 'cpu_idle', '{}'),
                    ('acme', 'mem{host="a"}', 'mem', '{"host": "a"}'),
                    ('other', 'cpu{host="a",dc="x"}', 'cpu', '{"host": "a", "dc": "x"}')
                """
            )
            try await postgres.query(
                """
                insert into measurements (series_id, ts, vals)
                select id, t, array[1.0] from series cross join (values (1000::bigint), (5000::bigint)) as v(t) where tag = 'cpu{host="a",dc="x"}' and domain = 'acme'
                """
            )
            func search(_ query: String) async throws -> (HTTPResponse.Status, SeriesPage?) {
                let response = try await client.execute(uri: "/series?" + query, method: .get, headers: Self.bearer)
                return (response.status, response.status == .ok ? try JSONDecoder().decode(SeriesPage.self, from: Data(buffer: response.body)) : nil)
            }
            func names(_ query: String) async throws -> [String]? { try await search(query).1?.series.map(\.series) }

            #expect(try await names("domain=acme&name=cpu") == [#"cpu{host="a",dc="x"}"#, #"cpu{host="b",dc="y"}"#, #"cpu{host="c"}"#])
            #expect(try await names("domain=acme&prefix=cpu&match[]=host%3D%22a%22") == [#"cpu{host="a",dc="x"}"#])
            // The name percent-encoded, as browsers and Prometheus' tools send it.
            #expect(try await names("domain=acme&prefix=cpu&match%5B%5D=host%3D%22a%22") == [#"cpu{host="a",dc="x"}"#])
            // A missing label is empty: != keeps the series without it, = with an empty value finds it.
            #expect(try await names("domain=acme&name=cpu&match[]=dc!=x") == [#"cpu{host="b",dc="y"}"#, #"cpu{host="c"}"#])
            #expect(try await names("domain=acme&name=cpu&match[]=dc=") == [#"cpu{host="c"}"#])
            // Regular expressions match the whole value.
            #expect(try await names("domain=acme&match[]=host%3D~%22a%7Cb%22") == [#"cpu{host="a",dc="x"}"#, #"cpu{host="b",dc="y"}"#, #"mem{host="a"}"#])
            #expect(try await names("domain=acme&match[]=__name__!~cpu.*") == [#"mem{host="a"}"#])
            #expect(try await names("domain=acme&match[]=__name__=cpu_idle") == ["cpu_idle"])
            // Times come from the rows; a series with none has neither.
            let timed = try await search("domain=acme&name=cpu&match[]=host=a").1?.series.first
            #expect(timed?.first_time == 1000 && timed?.last_time == 5000)
            #expect(try await search("domain=acme&name=cpu&match[]=host=b").1?.series.first?.first_time == nil)
            // Pages: two, then the rest.
            let first = try await search("domain=acme&prefix=c&limit=2").1
            #expect(first?.series.count == 2)
            let next = try #require(first?.next)
            let second = try await search("domain=acme&prefix=c&limit=2&after=\(next)").1
            #expect(second?.series.map(\.series) == [#"cpu{host="c"}"#, "cpu_idle"])
            // Refusals: a bad matcher, a regular expression PostgreSQL cannot read, another domain.
            #expect(try await search("domain=acme&match[]=nope").0 == .badRequest)
            #expect(try await search("domain=acme&match[]=host%3D~%28").0 == .badRequest)
            #expect(try await search("domain=other&name=cpu").0 == .forbidden)
        }
    }
}
