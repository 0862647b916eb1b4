import Ingest
import SluiceModel
import Testing

@Suite struct IngestBodyDecoderTests {
    let decoder = IngestBodyDecoder()
    let tenValues = "[1,2,3,4,5,6,7,8,9,10.5]"

    func decode(_ text: String, ndjson: Bool = false) throws(IngestBodyError) -> [Measurement] {
        try decoder.decode(Array(text.utf8), isNDJSON: ndjson)
    }

    func problems(_ text: String) -> [MessageProblem] {
        do {
            _ = try decode(text)
            Issue.record("expected \(text) to be rejected")
            return []
        } catch {
            guard case .invalidMessages(let problems, _, _) = error else {
                Issue.record("expected invalid messages, got \(error)")
                return []
            }
            return problems
        }
    }

    @Test func singleObjectIsOneMeasurement() throws {
        let result = try decode(#"{"time":1700000000000000000,"tag":"cpu","values":\#(tenValues)}"#)
        #expect(result == [Measurement(tag: "cpu", time: 1_700_000_000_000_000_000, values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5])])
    }

    @Test func arrayKeepsOrderAndDomain() throws {
        let result = try decode(#"[{"time":2,"tag":"a","values":[1]},{"time":1,"tag":"b","values":[2],"domain":"team-x"}]"#)
        #expect(result.map(\.tag) == ["a", "b"])
        #expect(result[1].domain == "team-x")
        #expect(result[0].domain == "default")
    }

    @Test func ndjsonIsDetectedWithoutContentType() throws {
        let body = "{\"time\":1,\"tag\":\"a\",\"values\":[1]}\n\n{\"time\":2,\"tag\":\"a\",\"values\":[2]}\n"
        #expect(try decode(body).map(\.time) == [1, 2])
    }

    @Test func prettyPrintedObjectIsNotMistakenForNDJSON() throws {
        let body = "{\n  \"time\": 5,\n  \"tag\": \"a\",\n  \"values\": [1]\n}\n"
        #expect(try decode(body).map(\.time) == [5])
    }

    @Test func ndjsonLineThatIsNotJSONNamesTheLine() {
        #expect(throws: IngestBodyError.self) { try decode("{\"time\":1,\"tag\":\"a\",\"values\":[1]}\n{oops}\n", ndjson: true) }
        do {
            _ = try decode("{\"time\":1,\"tag\":\"a\",\"values\":[1]}\n{oops}\n", ndjson: true)
        } catch {
            guard case .malformed(let reason) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(reason.contains("line 2"))
        }
    }

    @Test(arguments: ["", "   \n", "[]"])
    func emptyBodiesAreRejected(body: String) {
        #expect(throws: IngestBodyError.empty) { try decode(body) }
    }

    @Test(arguments: ["{\"time\":1,", "not json", "[{\"time\":1,\"tag\":\"a\",\"values\":[NaN]}]", "{\"time\":1,\"tag\":\"a\",\"values\":[Infinity]}", "42"])
    func malformedBodiesAreRejected(body: String) {
        do {
            _ = try decode(body)
            Issue.record("accepted \(body)")
        } catch {
            guard case .malformed = error else {
                Issue.record("expected malformed for \(body), got \(error)")
                return
            }
        }
    }

    @Test(arguments: [
        (#"[{"time":"soon","tag":"a","values":[1]}]"#, "time must be"),
        (#"[{"time":1.5,"tag":"a","values":[1]}]"#, "time must be"),
        (#"[{"tag":"a","values":[1]}]"#, "time is missing"),
        (#"[{"time":-1,"tag":"a","values":[1]}]"#, "negative"),
        (#"[{"time":9223372036854775807,"tag":"a","values":[1]}]"#, "after 2262-04-10"),
        (#"[{"time":1,"tag":7,"values":[1]}]"#, "tag must be a string"),
        (#"[{"time":1,"values":[1]}]"#, "tag is missing"),
        (#"[{"time":1,"tag":"","values":[1]}]"#, "tag is empty"),
        (#"[{"time":1,"tag":"a\u0001b","values":[1]}]"#, "control character"),
        (#"[{"time":1,"tag":"a","values":"1,2"}]"#, "values must be"),
        (#"[{"time":1,"tag":"a","values":["1"]}]"#, "values must be"),
        (#"[{"time":1,"tag":"a","values":[1e999]}]"#, "values must be"),
        (#"[{"time":1,"tag":"a","values":[]}]"#, "send 1–64"),
        (#"[{"time":1,"tag":"a"}]"#, "values is missing"),
        (#"[{"time":1,"tag":"a","values":[1],"domain":"a/b"}]"#, "domain may hold"),
        (#"[{"time":1,"tag":"a","values":[1],"domain":5}]"#, "domain must be a string"),
        (#"[17]"#, "not a JSON object"),
    ])
    func eachRejectionSaysWhy(body: String, reason: String) {
        let found = problems(body)
        #expect(found.count == 1)
        #expect(found.first?.index == 0)
        #expect(found.first?.reason.contains(reason) == true, "\(found) should mention \(reason)")
    }

    @Test func tagLimitIs255Bytes() throws {
        let longest = String(repeating: "x", count: 255)
        #expect(try decode(#"{"time":1,"tag":"\#(longest)","values":[1]}"#).first?.tag == longest)
        #expect(problems(#"[{"time":1,"tag":"\#(longest)y","values":[1]}]"#).first?.reason.contains("255") == true)
    }

    @Test func sixtyFiveValuesAreTooMany() throws {
        let sixtyFour = (1...64).map(String.init).joined(separator: ",")
        #expect(try decode(#"{"time":1,"tag":"a","values":[\#(sixtyFour)]}"#).first?.values.count == 64)
        #expect(problems(#"[{"time":1,"tag":"a","values":[\#(sixtyFour),65]}]"#).first?.reason.contains("65 numbers") == true)
    }

    @Test func badMessagesAreNamedByIndexAndCounted() {
        var items = (0..<30).map { #"{"time":\#($0),"tag":"t","values":[1]}"# }
        for bad in [3, 7, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21] { items[bad] = #"{"time":1,"tag":"","values":[1]}"# }
        do {
            _ = try decode("[" + items.joined(separator: ",") + "]")
            Issue.record("accepted a body with bad messages")
        } catch {
            guard case .invalidMessages(let problems, let invalidCount, let total) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(problems.map(\.index) == [3, 7, 12, 13, 14, 15, 16, 17, 18, 19])
            #expect(invalidCount == 12)
            #expect(total == 30)
        }
    }
}
