import Foundation
import PostgresNIO
import SluiceTestSupport
import Testing

/// Labelled series through the real pipeline: written two ways, stored once with name and labels
/// taken apart, found by labels, read back by their text form in any key order.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LabelsTests {
    @Test func aLabelledSeriesIsOneSeriesHoweverItIsWritten() async throws {
        try await TestDatabase.with { database, client in
            let stack = try await SluiceStack(database: database, withBridge: true)
            let now = nowNanoseconds()
            let body =
                #"[{"time":\#(now - 2_000_000_000),"tag":"cpu","labels":{"zone":"eu","host":"a"},"values":[1]},"#
                + #"{"time":\#(now - 1_000_000_000),"tag":"cpu{zone=\"eu\",host=\"a\"}","values":[2]},"#
                + #"{"time":\#(now),"tag":"cpu","labels":{"zone":"us","host":"a"},"values":[3]}]"#
            let posted = try await HTTP.post(stack.ingestURL + "/save", body: Data(body.utf8))
            #expect(posted.status == 202, "\(posted.text)")

            // Asked for with the labels in the other order, percent-encoded as a client would.
            let written = #"cpu{zone="eu",host="a"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            var reply = try await HTTP.get(stack.queryURL + "/api?tag=\(written)&start=-600000000000&samples=1")
            let deadline = ContinuousClock.now + .seconds(10)
            while reply.status != 200 || !reply.text.contains("[2.0]"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                reply = try await HTTP.get(stack.queryURL + "/api?tag=\(written)&start=-600000000000&samples=1")
            }
            #expect(reply.status == 200 && reply.text.contains(#""tagName":"cpu{host=\"a\",zone=\"eu\"}""#) && reply.text.contains("[2.0]"), "\(reply.text)")
            let window = try await HTTP.post(stack.bridgeURL + "/v1/window", body: Data(#"{"tag":"cpu{zone=\"eu\",host=\"a\"}","start_time_ms":-60000}"#.utf8))
            #expect(window.status == 200 && window.text.contains(#"cpu{host=\"a\",zone=\"eu\"}"#), "\(window.text)")

            // Stored once, taken apart, and found by a label (the zone=us series is keyed apart, so it may
            // land in another partition a moment later).
            var rows: [String] = []
            let query: PostgresQuery = #"select tag || ' ' || name || ' ' || labels::text from series where labels @> '{"host": "a"}' order by tag"#
            let stored = ContinuousClock.now + .seconds(10)
            repeat {
                rows = []
                for try await row in try await client.query(query).decode(String.self) { rows.append(row) }
                if rows.count >= 2 { break }
                try await Task.sleep(for: .milliseconds(100))
            } while ContinuousClock.now < stored
            #expect(
                rows == [#"cpu{host="a",zone="eu"} cpu {"host": "a", "zone": "eu"}"#, #"cpu{host="a",zone="us"} cpu {"host": "a", "zone": "us"}"#], "\(rows)")
            var count = 0
            for try await n in try await client.query(
                #"select count(*) from measurements m join series s on s.id = m.series_id where s.labels @> '{"zone": "eu"}'"#
            ).decode(Int.self) { count = n }
            #expect(count == 2)
            await stack.stop()
        }
    }
}
