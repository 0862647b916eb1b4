import Foundation
import PostgresNIO
import SluiceTestSupport
import Testing

/// A flood of expensive `/api` requests is turned away quickly, never starves `/health`, and no
/// statement runs longer than the configured timeout.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct QueryLimitsTests {
    /// Stores `rows` measurements of one tag directly (faster than through ingest), then waits for `/api`.
    func preload(_ client: PostgresClient, _ stack: SluiceStack, tag: String, rows: Int, start: Int64) async throws {
        let post = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array([Posted(tag: tag, time: start, values: [0])]))
        #expect(post.status == 202)
        let deadline = ContinuousClock.now + .seconds(20)
        var seriesID: Int64?
        while seriesID == nil, ContinuousClock.now < deadline {
            for try await id in try await client.query("select id from series where tag = \(tag)").decode(Int64.self) { seriesID = id }
            if seriesID == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let id = try #require(seriesID)
        try await client.query(
            "insert into measurements (series_id, ts, vals) select \(id), \(start) + g * 1000000, array[g::float8] from generate_series(1, \(rows)) g"
        )
        try await client.query("analyze measurements")
    }

    @Test func aFloodOfHeavyQueriesIsRefusedQuicklyAndHealthStaysHonest() async throws {
        try await TestDatabase.with { database, client in
            let stack = try await SluiceStack(
                database: database,
                extraEnvironment: ["SLUICE_QUERY_MAX_IN_FLIGHT": "3", "SLUICE_PG_MAX_CONNECTIONS": "2"]
            )
            let start = nowNanoseconds() - 3_600_000_000_000
            try await preload(client, stack, tag: "heavy", rows: 200_000, start: start)
            let url = stack.queryURL + "/api?tag=heavy&start=\(start)&end=\(start + 3_000_000_000_000)&samples=10000"

            let (replies, healthy) = try await withThrowingTaskGroup(of: (HTTP.Reply?, Bool?).self) { group in
                for _ in 0..<30 {
                    group.addTask { (try await HTTP.get(url), nil) }
                }
                group.addTask {
                    var allHealthy = true
                    for _ in 0..<10 {
                        let status = try await HTTP.get(stack.queryURL + "/health").status
                        allHealthy = allHealthy && status == 200
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    return (nil, allHealthy)
                }
                var replies: [HTTP.Reply] = []
                var healthy = false
                for try await (reply, health) in group {
                    if let reply { replies.append(reply) }
                    if let health { healthy = health }
                }
                return (replies, healthy)
            }
            let statuses = replies.map(\.status)
            #expect(healthy, "/health failed while the pool was busy")
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 503 }, "\(statuses)")
            #expect(statuses.contains(200))
            #expect(statuses.contains(503), "30 concurrent requests with a limit of 3 were all taken")
            #expect(try await HTTP.metric(stack.queryURL, "sluice_query_requests_refused_busy_total").map { $0 >= 1 } == true)
            let refusals = replies.filter { $0.status == 503 }
            #expect(refusals.allSatisfy { $0.headers["retry-after"] == "1" && $0.text.contains("answering 3 requests already") })
            await stack.stop()
        }
    }

    @Test func aStatementOutlastingTheTimeoutIsStoppedAndSaysSo() async throws {
        try await TestDatabase.with { database, client in
            let stack = try await SluiceStack(database: database, extraEnvironment: ["SLUICE_QUERY_STATEMENT_TIMEOUT_MS": "1"])
            let start = nowNanoseconds() - 3_600_000_000_000
            try await preload(client, stack, tag: "slow", rows: 200_000, start: start)
            let reply = try await HTTP.get(stack.queryURL + "/api?tag=slow&start=\(start)&end=\(start + 3_000_000_000_000)&samples=10000")
            #expect(reply.status == 503)
            #expect(reply.text.contains("took longer than"), "\(reply.text)")
            #expect(try await HTTP.get(stack.queryURL + "/health").status == 200)
            await stack.stop()
        }
    }
}
