import Foundation
import PostgresNIO
import SluiceTestSupport
import Testing

/// A writer killed with SIGKILL in the middle of a stream loses nothing and duplicates nothing.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct CrashSafetyTests {
    /// Once as it always ran, and once with keys required and every request signed.
    @Test(arguments: [false, true])
    func everyAcceptedMessageIsStoredExactlyOnceAcrossAWriterCrash(requireKeys: Bool) async throws {
        try await TestDatabase.with { database, client in
            let stack = try await SluiceStack(database: database, requireKeys: requireKeys)
            let credentials = stack.adminKey.map { HTTP.Credentials.signed($0) } ?? .none
            let base = nowNanoseconds() - 3_600_000_000_000
            let tags = (0..<25).map { "crash-\($0)" }
            var accepted: [Posted] = []
            let requests = 60
            let perRequest = 100  // 6,000 messages
            for request in 0..<requests {
                let batch = (0..<perRequest).map { index -> Posted in
                    let sequence = request * perRequest + index
                    return Posted(tag: tags[sequence % tags.count], time: base + Int64(sequence) * 1_000_000, values: [Double(sequence), 0.5])
                }
                let reply = try await HTTP.send("POST", stack.ingestURL + "/save", body: Posted.array(batch), credentials: credentials)
                #expect(reply.status == 202, "\(reply.text)")
                if reply.status == 202 { accepted += batch }
                if request == requests / 3 {
                    await stack.writer.killHard()
                }
                if request == requests / 2 {
                    try await stack.restartWriter()
                }
            }
            #expect(accepted.count == requests * perRequest)

            var stored: [String: [Int64: Double]] = [:]
            var rowCount = 0
            let deadline = ContinuousClock.now + .seconds(90)
            while ContinuousClock.now < deadline {
                for try await count in try await client.query("select count(*) from measurements").decode(Int.self) { rowCount = count }
                if rowCount >= accepted.count { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let rows = try await client.query("select s.tag, m.ts, m.vals[1] from measurements m join series s on s.id = m.series_id")
            for try await (tag, time, first) in rows.decode((String, Int64, Double).self) { stored[tag, default: [:]][time] = first }
            let storedTotal = stored.values.reduce(0) { $0 + $1.count }
            #expect(rowCount == accepted.count, "rows stored \(rowCount), accepted \(accepted.count):\n\(stack.logs)")
            #expect(storedTotal == accepted.count)
            let missing = accepted.filter { stored[$0.tag]?[$0.time] != $0.values[0] }
            #expect(missing.isEmpty, "\(missing.count) accepted messages are missing or wrong, first: \(String(describing: missing.first))")
            await stack.stop()
        }
    }

    @Test func lostDatabaseConnectionsAreRetriedWithoutLosingOrSkippingData() async throws {
        try await TestDatabase.with { database, client in
            // A short store deadline, so a store that hangs on a killed connection is retried within the test's wait.
            let stack = try await SluiceStack(database: database, extraEnvironment: ["SLUICE_WRITER_STORE_TIMEOUT_MS": "5000"])
            let base = nowNanoseconds() - 3_600_000_000_000
            var accepted: [Posted] = []
            var terminated = 0
            for request in 0..<30 {
                let batch = (0..<100).map { index -> Posted in
                    let sequence = request * 100 + index
                    return Posted(tag: "conn-\(sequence % 7)", time: base + Int64(sequence) * 1_000_000, values: [Double(sequence)])
                }
                let reply = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(batch))
                #expect(reply.status == 202, "\(reply.text)")
                if reply.status == 202 { accepted += batch }
                if request % 5 == 2 {
                    // Cut every other session to this database, as a PostgreSQL restart or a network cut would.
                    let rows = try await client.query(
                        "select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = \(database.name) and pid <> pg_backend_pid()"
                    )
                    for try await count in rows.decode(Int.self) { terminated += count }
                }
            }
            #expect(terminated > 0, "the test must actually cut connections")
            var rowCount = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                for try await count in try await client.query("select count(*) from measurements").decode(Int.self) { rowCount = count }
                if rowCount >= accepted.count { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(rowCount == accepted.count, "rows \(rowCount), accepted \(accepted.count):\n\(stack.logs.suffix(6000))")
            var stored: Set<Int64> = []
            for try await time in try await client.query("select ts from measurements").decode(Int64.self) { stored.insert(time) }
            let missing = Set(accepted.map(\.time)).subtracting(stored)
            let unexpected = stored.subtracting(accepted.map(\.time))
            #expect(missing.isEmpty, "\(missing.count) accepted times are missing, e.g. \(missing.sorted().prefix(5))")
            #expect(unexpected.isEmpty, "\(unexpected.count) stored times were never accepted, e.g. \(unexpected.sorted().prefix(5))")
            await stack.stop()
        }
    }
}
