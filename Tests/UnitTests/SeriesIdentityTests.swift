import Bridge
import Foundation
import SluiceModel
import Testing

/// Series are told apart by their bytes, as PostgreSQL does, never by Swift's canonical equivalence.
@Suite struct SeriesIdentityTests {
    let decomposed = "Cafe\u{301}"
    let precomposed = "Caf\u{E9}"

    @Test func canonicallyEquivalentTagsAreDifferentSeries() {
        #expect(decomposed == precomposed, "Swift's String equality, which SeriesKey must not use")
        let a = SeriesKey(domain: "default", tag: decomposed)
        let b = SeriesKey(domain: "default", tag: precomposed)
        #expect(a != b)
        #expect(Set([a, b]).count == 2)
        #expect([a: 1, b: 2][a] == 1)
        #expect(SeriesKey(domain: "ab", tag: "c") != SeriesKey(domain: "a", tag: "bc"))
        let same = SeriesKey(domain: "default", tag: String(decoding: Array(decomposed.utf8), as: UTF8.self))
        #expect(same == a && same.hashValue == a.hashValue)
    }

    @Test func aWindowMayNameBothSpellings() throws {
        let body = #"{"tags":["\#(decomposed)","\#(precomposed)"],"start_time_ms":-900000}"#
        let request = try WindowRequest.parse(Data(body.utf8), nowMilliseconds: 1_800_000_000_000)
        #expect(request.series.count == 2)
    }

    @Test(arguments: ["a\u{202E}b", "\u{2066}x\u{2069}", "zero\u{200B}width", "\u{FEFF}bom", "rlm\u{200F}"])
    func newTagsMayNotHoldInvisibleDirectionOrSpacingMarks(tag: String) {
        let problem = MeasurementLimits.problem(with: Measurement(tag: tag, time: 1, values: [1]))
        #expect(problem?.contains("invisible") == true, "\(String(describing: problem))")
        // Already stored ones stay readable and writable.
        #expect(MeasurementLimits.problem(withTag: tag) == nil)
    }

    @Test(arguments: ["\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}", "👩\u{200D}💻", "Caf\u{E9}", "温度"])
    func joinersAndOrdinaryTextStayAllowed(tag: String) {
        #expect(MeasurementLimits.problem(with: Measurement(tag: tag, time: 1, values: [1])) == nil)
    }
}
