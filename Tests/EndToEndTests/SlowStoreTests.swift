import Foundation
import Logging
import PostgresNIO
import SluiceTestSupport
import Testing

/// A store that outlasts SLUICE_WRITER_STORE_TIMEOUT_MS is abandoned on the server too: its backend is
/// terminated, so abandoned attempts never pile up holding connections, and the data is stored once.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SlowStoreTests {
    @Test func anAbandonedStoreIsEndedOnTheServerAndTheBatchIsStoredOnce() async throws {
        try await TestDatabase.with { database, client in
            let stack = try await SluiceStack(database: database, extraEnvironment: ["SLUICE_WRITER_STORE_TIMEOUT_MS": "500"])
            let base = nowNanoseconds() - 3_600_000_000_000
            let sent = (0..<200).map { Posted(tag: "slow-\($0 % 5)", time: base + Int64($0) * 1_000_000, values: [Double($0)]) }

            // Hold a lock every store needs for 4 s: each attempt waits on it until its deadline.
            var mostWaiting = 0
            let logger = Logger(label: "slow-store-test")
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("lock table measurements in access exclusive mode", logger: logger)
                let reply = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(sent))
                #expect(reply.status == 202)
                let until = ContinuousClock.now + .seconds(4)
                while ContinuousClock.now < until {
                    let query: PostgresQuery = """
                        select count(*) from pg_stat_activity
                        where datname = \(database.name) and wait_event_type = 'Lock' and pid <> pg_backend_pid()
                        """
                    for try await waiting in try await client.query(query).decode(Int.self) { mostWaiting = max(mostWaiting, waiting) }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(try await HTTP.metric(stack.writerURL, "sluice_writer_abandoned_stores_total").map { $0 >= 2 } == true, "\(stack.logs)")
            // Abandoned attempts were ended, not left waiting beside their retries.
            #expect(mostWaiting <= 1, "\(mostWaiting) store attempts were waiting on the lock at once")

            var stored = 0
            let deadline = ContinuousClock.now + .seconds(30)
            while stored < sent.count, ContinuousClock.now < deadline {
                for try await count in try await client.query("select count(*) from measurements").decode(Int.self) { stored = count }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(stored == sent.count)
            var offsets = 0
            for try await total in try await client.query("select coalesce(sum(next_offset), 0)::int from writer_offsets").decode(Int.self) { offsets = total }
            #expect(offsets == sent.count, "stored offsets cover every message once")
            await stack.stop()
        }
    }
}
