import Foundation
import PostgresNIO
import SluiceTestSupport
import Testing

/// Ingest holds at most SLUICE_INGEST_MAX_IN_FLIGHT_BYTES of request bodies at once and turns the rest
/// away before reading them (scripts/ingest-memory measures the peak memory this buys).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct IngestMemoryTests {
    @Test func concurrentBodiesPastTheBudgetAreRefusedAndEveryAcceptedOneIsStored() async throws {
        try await TestDatabase.with { database, client in
            let stack = try await SluiceStack(database: database, extraEnvironment: ["SLUICE_INGEST_MAX_IN_FLIGHT_BYTES": "1000000"])
            let base = nowNanoseconds() - 3_600_000_000_000
            // Eight bodies of about 450 KB each, sent at once: at most two fit in the budget together.
            let bodies = (0..<8).map { request in
                (0..<3000).map { index in
                    Posted(tag: "memory-\(index % 50)", time: base + Int64(request * 3000 + index) * 1000, values: (0..<10).map { Double($0) + 0.125 })
                }
            }
            let replies = try await withThrowingTaskGroup(of: (Int, HTTP.Reply).self) { group in
                for (index, body) in bodies.enumerated() {
                    group.addTask { (index, try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(body))) }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            let accepted = replies.filter { $0.value.status == 202 }.map(\.key)
            let refused = replies.values.filter { $0.status == 503 }
            #expect(accepted.count + refused.count == 8, "\(replies.values.map(\.status))")
            #expect(!accepted.isEmpty)
            #expect(!refused.isEmpty, "eight concurrent 450 KB bodies all fitted a 1 MB budget")
            #expect(refused.allSatisfy { $0.headers["retry-after"] == "1" && $0.text.contains("SLUICE_INGEST_MAX_IN_FLIGHT_BYTES") })
            #expect(try await HTTP.metric(stack.ingestURL, "sluice_ingest_requests_refused_memory_total") == Double(refused.count))

            // What was accepted is stored; the budget is free again afterwards.
            let expected = accepted.count * 3000
            var stored = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while stored < expected, ContinuousClock.now < deadline {
                for try await count in try await client.query("select count(*) from measurements").decode(Int.self) { stored = count }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(stored == expected)
            #expect(try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(bodies[0])).status == 202)
            await stack.stop()
        }
    }
}
