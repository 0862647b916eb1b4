import Foundation
import SluiceModel
import Testing

@testable import Ingest

/// The fast path must read exactly what `JSONDecoder` reads, and decline whatever it is not sure of.
@Suite struct MessageScannerTests {
    /// What the general decoder makes of a body, field for field (before the limits are checked).
    func general(_ body: String, layout: MessageScanner.Layout) throws -> [SluiceModel.Measurement] {
        let data = Data(body.utf8)
        let messages: [WireMessage]
        switch layout {
        case .object: messages = [try JSONDecoder().decode(WireMessage.self, from: data)]
        case .array: messages = try JSONDecoder().decode([WireMessage].self, from: data)
        case .lines:
            // Split bytes, not Characters: "\r\n" is one Character.
            messages = try Array(body.utf8).split(separator: 0x0A).filter { !$0.allSatisfy(IngestBodyDecoder.isWhitespace) }
                .map { try JSONDecoder().decode(WireMessage.self, from: Data($0)) }
        }
        return try messages.map { try $0.decoded.get() }
    }

    func refusal(by decoder: IngestBodyDecoder, of body: String, isNDJSON: Bool) -> IngestBodyError? {
        do {
            _ = try decoder.decode(Array(body.utf8), isNDJSON: isNDJSON)
            return nil
        } catch {
            return error
        }
    }

    func scanned(_ body: String, layout: MessageScanner.Layout) -> [SluiceModel.Measurement]? {
        MessageScanner.measurements(in: Array(body.utf8), layout: layout)
    }

    /// Producer-like bodies: random-walk values at full precision, every layout, varied spacing and key order.
    @Test func readsWhatJSONDecoderReads() throws {
        var generator = SystemRandomNumberGenerator()
        var messages: [String] = []
        for index in 0..<300 {
            let values = (0..<(1 + index % 12)).map { _ in
                Double.random(in: -1e6...1e6, using: &generator) * pow(10, Double(Int.random(in: -12...12, using: &generator)))
            }
            let numbers = values.map(\.description).joined(separator: index % 2 == 0 ? "," : " , ")
            let time = Int64.random(in: 0...Int64.max, using: &generator)
            let tag = ["cpu", "tag-\(index)", "disk/sda1 ü", "温度", "a b\u{7F}"][index % 5]
            let labels = index % 5 == 1 ? [#""labels":{"host":"h-\#(index % 7)", "dc":"eu"}"#] : index % 10 == 3 ? [#""labels":{}"#] : []
            let fields =
                [#""time":\#(time)"#, #""tag":"\#(tag)""#, #""values":[\#(numbers)]"#] + (index % 3 == 0 ? [#""domain":"d-\#(index)""#] : []) + labels
            let ordered = index % 4 == 0 ? fields.reversed() : fields
            messages.append("{" + ordered.joined(separator: index % 2 == 0 ? "," : " ,\t") + "}")
        }
        let array = "[" + messages.joined(separator: ",\n ") + "]"
        #expect(scanned(array, layout: .array) == (try general(array, layout: .array)))
        let lines = messages.joined(separator: "\r\n") + "\n\n"
        #expect(scanned(lines, layout: .lines) == (try general(lines, layout: .lines)))
        for message in messages.prefix(20) {
            #expect(scanned("  " + message + " ", layout: .object) == (try general(message, layout: .object)))
        }
        #expect(scanned("[ ]", layout: .array) == [])
    }

    @Test(arguments: ["0", "-0", "0.1", "1e-300", "5e-324", "1.7976931348623157e308", "-2.5E+3", "123456789012345678901234567890", "9007199254740993"])
    func numbersAreCorrectlyRounded(text: String) throws {
        let body = #"{"time":1,"tag":"t","values":[\#(text)]}"#
        let expected = try #require(Double(text))
        #expect(scanned(body, layout: .object)?.first?.values == [expected])
        #expect(try general(body, layout: .object).first?.values == [expected])
    }

    @Test func timeCoversInt64() {
        #expect(scanned(#"{"time":9223372036854775807,"tag":"t","values":[1]}"#, layout: .object)?.first?.time == .max)
        #expect(scanned(#"{"time":-9223372036854775808,"tag":"t","values":[1]}"#, layout: .object)?.first?.time == .min)
    }

    /// Each of these goes to the general decoder, which explains what is wrong (or reads what is unusual).
    @Test(arguments: [
        #"{"time":1,"tag":"a\"b","values":[1]}"#,
        #"{"time":1,"tag":"\u0041","values":[1]}"#,
        #"{"time":1,"tag":"t","values":[1],"unit":"s"}"#,
        #"{"time":1,"time":2,"tag":"t","values":[1]}"#,
        #"{"time":1.5,"tag":"t","values":[1]}"#,
        #"{"time":1e3,"tag":"t","values":[1]}"#,
        #"{"time":9223372036854775808,"tag":"t","values":[1]}"#,
        #"{"time":01,"tag":"t","values":[1]}"#,
        #"{"time":"1","tag":"t","values":[1]}"#,
        #"{"time":1,"tag":"t","values":[1,null]}"#,
        #"{"time":1,"tag":"t","values":[NaN]}"#,
        #"{"time":1,"tag":"t","values":[1e400]}"#,
        #"{"time":1,"tag":"t","values":[01]}"#,
        #"{"time":1,"tag":"t","values":[1.]}"#,
        #"{"time":1,"tag":"t","values":[.5]}"#,
        #"{"time":1,"tag":"t","values":[+1]}"#,
        #"{"time":1,"tag":"t","values":[1,]}"#,
        #"{"time":1,"tag":"t"}"#,
        #"{"time":1,"tag":"t","values":[1]} x"#,
        #"{"time":1,"tag":"t","values":[1]"#,
        #"{}"#,
        #"{"tag":5,"time":1,"values":[1]}"#,
        "{\"time\":1,\"tag\":\"a\tb\",\"values\":[1]}",
        #"{"time":1,"tag":"t","values":[1],"labels":{"host":"a","host":"b"}}"#,
        #"{"time":1,"tag":"t","values":[1],"labels":{"ho\u0073t":"a"}}"#,
        #"{"time":1,"tag":"t","values":[1],"labels":{"host":1}}"#,
        #"{"time":1,"tag":"t","values":[1],"labels":{"":"a"}}"#,
        #"{"time":1,"tag":"t{a=\"b\"}","values":[1],"labels":{"host":"a"}}"#,
        #"{"time":1,"tag":"t","values":[1],"labels":null}"#,
    ])
    func declinesWhatItIsNotSureOf(body: String) {
        #expect(scanned(body, layout: .object) == nil)
    }

    @Test func declinesBrokenArraysAndLines() {
        #expect(scanned(#"[{"time":1,"tag":"t","values":[1]},]"#, layout: .array) == nil)
        #expect(scanned(#"[{"time":1,"tag":"t","values":[1]}"#, layout: .array) == nil)
        #expect(scanned(#"[{"time":1,"tag":"t","values":[1]}] ]"#, layout: .array) == nil)
        #expect(scanned("{\"time\":1,\"tag\":\"t\",\"values\":[1]} {\"time\":2,\"tag\":\"t\",\"values\":[1]}\n", layout: .lines) == nil)
        #expect(scanned(Array(repeating: #"{"time":1,"tag":"t","values":[1]}"#, count: 2).joined(separator: "\n") + "\n{", layout: .lines) == nil)
    }

    /// Found by the differential fuzzer (BodyFuzzingTests): each was accepted here and refused by JSONDecoder.
    @Test(arguments: [
        // A repeated key after a value that failed: the decoder stops at the bad value.
        (#"{"time":-,"time":5,"tag":"t","values":[1]}"#, MessageScanner.Layout.object),
        (#"{"values":,"values":[1],"time":1,"tag":"t"}"#, .object),
        // NDJSON is read line by line: an object may not span lines.
        ("{\"time\":1,\n\"tag\":\"t\",\"values\":[1]}\n", .lines),
        ("{\"time\":1,\"tag\":\"t\",\"values\":[1\r\n]}", .lines),
        // Not zero, yet rounds to zero: JSONDecoder calls it unrepresentable.
        (#"{"time":1,"tag":"t","values":[-1e-400]}"#, .object),
        (#"{"time":1,"tag":"t","values":[0.0000001e-330]}"#, .object),
    ])
    func declinesWhatJSONDecoderRefuses(body: String, layout: MessageScanner.Layout) {
        #expect(scanned(body, layout: layout) == nil)
        let fast = refusal(by: IngestBodyDecoder(), of: body, isNDJSON: layout == .lines)
        let general = refusal(by: IngestBodyDecoder(usesScanner: false), of: body, isNDJSON: layout == .lines)
        #expect(fast != nil && fast == general)
    }

    @Test func zeroWrittenAnyWayIsStillZero() {
        #expect(scanned(#"{"time":1,"tag":"t","values":[0e-400,-0.000e5,0.0]}"#, layout: .object)?.first?.values.map(\.sign) == [.plus, .minus, .plus])
    }

    @Test func invalidUTF8IsLeftToTheGeneralDecoder() {
        var body = Array(#"{"time":1,"tag":""#.utf8)
        body += [0xFF, 0xFE]
        body += Array(#"","values":[1]}"#.utf8)
        #expect(MessageScanner.measurements(in: body, layout: .object) == nil)
    }
}
