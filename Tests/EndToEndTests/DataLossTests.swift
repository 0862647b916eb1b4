import Foundation
import PostgresNIO
import SluiceTestSupport
import Testing

/// Nothing acknowledged is lost silently: ingest pushes back before the writer falls further behind than
/// Kafka keeps, and when Kafka loses data anyway the writer records it, says so, and reads on.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct DataLossTests {
    /// `count` messages of ten values for a few tags, each at its own time after `base`.
    static func batch(_ request: Int, of count: Int, base: Int64, tags: Int = 20) -> [Posted] {
        (0..<count).map { index in
            let sequence = request * count + index
            let values = (0..<10).map { Double(sequence) + Double($0) / 10 }
            return Posted(tag: "loss-\(sequence % tags)", time: base + Int64(sequence) * 1_000, values: values)
        }
    }

    static func rowCount(_ client: PostgresClient) async throws -> Int {
        var count = 0
        for try await value in try await client.query("select count(*) from measurements").decode(Int.self) { count = value }
        return count
    }

    /// Waits until `measurements` holds `expected` rows (or the time is up), and returns what it holds.
    static func waitForRows(_ expected: Int, _ client: PostgresClient, within limit: Duration = .seconds(60)) async throws -> Int {
        let deadline = ContinuousClock.now + limit
        var count = try await rowCount(client)
        while count < expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            count = try await rowCount(client)
        }
        return count
    }

    @Test func ingestRefusesWhileTheWriterIsTooFarBehindAndEveryAcceptedMessageIsStoredOnce() async throws {
        try await TestDatabase.with { database, client in
            let stack = try await SluiceStack(
                database: database, measurementPartitions: 1,
                extraEnvironment: ["SLUICE_INGEST_MAX_PARTITION_BACKLOG": "2500", "SLUICE_INGEST_BACKLOG_CHECK_MS": "50"]
            )
            let base = nowNanoseconds() - 3_600_000_000_000
            #expect(await stack.writer.terminate() == 0)

            var accepted: [Posted] = []
            var refusal: HTTP.Reply?
            for request in 0..<20 {
                let batch = Self.batch(request, of: 1000, base: base)
                let reply = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(batch))
                if reply.status == 202 {
                    accepted += batch
                } else {
                    refusal = reply
                    break
                }
                try await Task.sleep(for: .milliseconds(300))  // several backlog checks between requests
            }
            let refused = try #require(refusal, "ingest accepted 20,000 messages with the writer stopped and a limit of 2,500")
            #expect(refused.status == 503)
            #expect(refused.headers["retry-after"] == "1")
            #expect(refused.text.contains("holds 3000 messages not yet stored (limit 2500)"), "\(refused.text)")
            #expect(accepted.count == 3000)
            #expect(try await HTTP.metric(stack.ingestURL, "sluice_ingest_requests_refused_backlog_total") == 1)

            try await stack.restartWriter()
            // Once the writer has caught up, ingest takes messages again.
            var later: HTTP.Reply?
            let deadline = ContinuousClock.now + .seconds(30)
            let next = Self.batch(100, of: 1000, base: base)
            while ContinuousClock.now < deadline {
                let reply = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(next))
                if reply.status == 202 {
                    later = reply
                    accepted += next
                    break
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(later?.status == 202, "ingest still refused after the writer restarted:\n\(stack.logs)")
            #expect(try await Self.waitForRows(accepted.count, client) == accepted.count)
            var stored = Set<String>()
            let rows = try await client.query("select s.tag, m.ts from measurements m join series s on s.id = m.series_id")
            for try await (tag, time) in rows.decode((String, Int64).self) { stored.insert("\(tag)@\(time)") }
            #expect(stored == Set(accepted.map { "\($0.tag)@\($0.time)" }))
            await stack.stop()
        }
    }

    @Test func aWriterWhosePositionKafkaDroppedRecordsTheLossSaysSoAndReadsOn() async throws {
        try await TestDatabase.with { database, client in
            // The backlog check is off, so that the local broker (about 5 MB per partition) drops unread data.
            let stack = try await SluiceStack(
                database: database, measurementPartitions: 1, extraEnvironment: ["SLUICE_INGEST_MAX_PARTITION_BACKLOG": "0"]
            )
            let base = nowNanoseconds() - 3_600_000_000_000
            let first = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(Self.batch(0, of: 100, base: base)))
            #expect(first.status == 202)
            #expect(try await Self.waitForRows(100, client) == 100)
            #expect(await stack.writer.terminate() == 0)

            let requests = 90  // 90,000 messages of ~110 bytes: far more than the broker keeps
            for request in 1...requests {
                let reply = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(Self.batch(request, of: 1000, base: base)))
                #expect(reply.status == 202)
            }
            try await stack.restartWriter(waitForHealth: false)

            var loss: (stored: Int64?, resumed: Int64, lost: Int64?, reason: String)?
            let deadline = ContinuousClock.now + .seconds(30)
            while loss == nil, ContinuousClock.now < deadline {
                let rows = try await client.query("select stored_offset, resumed_offset, lost_messages, reason from writer_data_loss")
                for try await row in rows.decode((Int64?, Int64, Int64?, String).self) { loss = row }
                if loss == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            let recorded = try #require(loss, "no loss was recorded:\n\(stack.logs)")
            #expect(recorded.stored == 100)
            #expect(recorded.resumed > 100)
            #expect(recorded.lost == recorded.resumed - 100)
            #expect(recorded.reason.contains("no longer holds offsets 100..<\(recorded.resumed)"))
            #expect(try await HTTP.metric(stack.writerURL, "sluice_writer_lost_messages_total") == Double(recorded.resumed - 100))

            let health = try await HTTP.get(stack.writerURL + "/health")
            #expect(health.status == 503)
            #expect(health.text.contains("dropped by retention before they were stored"), "\(health.text)")

            // Everything Kafka still held is stored, and the partition keeps flowing.
            let held = Int(Int64(100 + requests * 1000) - recorded.resumed)
            #expect(try await Self.waitForRows(100 + held, client) == 100 + held)
            let after = try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(Self.batch(500, of: 10, base: base)))
            #expect(after.status == 202)
            #expect(try await Self.waitForRows(110 + held, client) == 110 + held)
            await stack.stop()
        }
    }

    @Test func offsetsStoredForAnotherKafkaClusterAreNotMistakenForPositionsInThisOne() async throws {
        try await TestDatabase.with { database, client in
            let base = nowNanoseconds() - 3_600_000_000_000
            let old = try await SluiceStack(database: database, measurementPartitions: 2)
            #expect(try await HTTP.post(old.ingestURL + "/save", body: Posted.array(Self.batch(0, of: 200, base: base))).status == 202)
            #expect(try await Self.waitForRows(200, client) == 200)
            await old.stop()

            // A new broker (an empty cluster) with the same database: its offsets start at 0 again.
            let new = try await SluiceStack(database: database, measurementPartitions: 2)
            #expect(await new.writer.terminate() == 0)
            #expect(try await HTTP.post(new.ingestURL + "/save", body: Posted.array(Self.batch(1, of: 1000, base: base))).status == 202)
            try await new.restartWriter(waitForHealth: false)
            // Resuming at the old offsets would skip the first ~100 messages of each partition.
            #expect(try await Self.waitForRows(1200, client) == 1200, "\(new.logs)")
            var reasons: [String] = []
            for try await reason in try await client.query("select reason from writer_data_loss").decode(String.self) { reasons.append(reason) }
            #expect(!reasons.isEmpty && reasons.allSatisfy { $0.contains("was stored for Kafka cluster") }, "\(reasons)")
            await new.stop()
        }
    }
}
