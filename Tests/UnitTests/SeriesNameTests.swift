import Ingest
import SluiceModel
import Testing

/// A series' one text form: `name{k="v",…}` with sorted keys, read back the same however it was written.
@Suite struct SeriesNameTests {
    @Test func theCanonicalFormSortsKeysAndEscapesValues() {
        let series = SeriesName(name: "cpu", labels: ["zone": "eu\"1", "host": "a\\b", "core": "line\nbreak"])
        #expect(series.canonical == #"cpu{core="line\nbreak",host="a\\b",zone="eu\"1"}"#)
        #expect(SeriesName.parse(series.canonical) == series)
        #expect(SeriesName(name: "cpu").canonical == "cpu")
    }

    /// Values of any characters — escapes next to multi-byte ones, a quote after a backslash — read back
    /// as written, and the text holds no bare quote or newline inside a value.
    @Test(arguments: 1...20 as ClosedRange<UInt64>)
    func anyValuesReadBackFromTheCanonicalForm(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let pieces = ["a", "\\", "\"", "\n", "é", "日本", "🦆", ",", "=", "{", "}", " ", "\\\""]
        var labels: [String: String] = [:]
        for index in 0..<Int.random(in: 1...6, using: &generator) {
            labels["k\(index)"] = (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
        }
        let series = SeriesName(name: "cpu", labels: labels)
        #expect(SeriesName.parse(series.canonical) == series, "seed \(seed): \(series.canonical)")
        #expect(!series.canonical.contains("\n"), "seed \(seed)")
    }

    @Test func labelsInAnyOrderReadAsOneSeries() {
        #expect(SeriesName.canonicalize(#"cpu{zone="eu",host="a"}"#) == #"cpu{host="a",zone="eu"}"#)
        #expect(SeriesName.canonicalize(#"cpu{host="a",zone="eu"}"#) == #"cpu{host="a",zone="eu"}"#)
    }

    @Test(arguments: [
        "cpu", "tag-00001", "{}", "cpu{}", "cpu{host}", #"cpu{host="a""#, #"cpu{1host="a"}"#, #"cpu{host="a",host="b"}"#,
        #"cpu{host="a"x}"#, #"cpu{host="a\q"}"#, "a}", #"{host="a"}"#,
    ])
    func textThatIsNotALabelFormIsAPlainName(_ text: String) {
        #expect(SeriesName.parse(text) == SeriesName(name: text))
        #expect(SeriesName.canonicalize(text) == text)
    }

    @Test func labelRules() {
        #expect(
            SeriesName.isLabelKey("_a1") && SeriesName.isLabelKey("host") && !SeriesName.isLabelKey("1a") && !SeriesName.isLabelKey("a-b")
                && !SeriesName.isLabelKey(""))
        #expect(MeasurementLimits.problem(withLabels: ["host": "a"]) == nil)
        #expect(MeasurementLimits.problem(withLabels: ["host": ""]) != nil)
        #expect(MeasurementLimits.problem(withLabels: ["ho-st": "a"]) != nil)
        #expect(MeasurementLimits.problem(withLabels: ["host": "a\u{202E}b"]) != nil)
        #expect(MeasurementLimits.problem(withLabels: Dictionary(uniqueKeysWithValues: (0..<33).map { ("k\($0)", "v") })) != nil)
    }

    @Test func aLabelledSeriesMayBeLongerThanAPlainTag() {
        let long = SeriesName(name: "m", labels: ["k": String(repeating: "v", count: 600)]).canonical
        #expect(MeasurementLimits.problem(withTag: long) == nil)
        #expect(MeasurementLimits.problem(withTag: String(repeating: "v", count: 600)) != nil)
        #expect(MeasurementLimits.problem(withTag: SeriesName(name: "m", labels: ["k": String(repeating: "v", count: 1100)]).canonical) != nil)
    }

    @Test func ingestTurnsLabelsIntoTheCanonicalTag() throws {
        let decoder = IngestBodyDecoder()
        let body = #"[{"time":1,"tag":"cpu","labels":{"zone":"eu","host":"a"},"values":[1]},{"time":2,"tag":"cpu{zone=\"eu\",host=\"a\"}","values":[2]}]"#
        let measurements = try decoder.decode(Array(body.utf8))
        #expect(measurements.map(\.tag) == [#"cpu{host="a",zone="eu"}"#, #"cpu{host="a",zone="eu"}"#])
        #expect(throws: IngestBodyError.self) { try decoder.decode(Array(#"{"time":1,"tag":"c{x","labels":{"a":"b"},"values":[1]}"#.utf8)) }
        #expect(throws: IngestBodyError.self) { try decoder.decode(Array(#"{"time":1,"tag":"c","labels":{"a":1},"values":[1]}"#.utf8)) }
        #expect(throws: IngestBodyError.self) { try decoder.decode(Array(#"{"time":1,"tag":"c","labels":{"1a":"b"},"values":[1]}"#.utf8)) }
        // Empty labels are no labels.
        #expect(try decoder.decode(Array(#"{"time":1,"tag":"c","labels":{},"values":[1]}"#.utf8)).map(\.tag) == ["c"])
    }
}
