import Foundation
import NIOCore
import Query
import SluiceModel
import Testing

@Suite struct SampleResponseTests {
    let samples = [
        Sample(time: 10, measuredAt: nil, values: nil),
        Sample(time: 20, measuredAt: 15, values: [1.5, -2]),
    ]

    @Test func seed003ShapeIsTheDefault() throws {
        let request = try SampleRequest.parse(["tag": "a\"b", "start": "0", "end": "20", "samples": "2"], now: 100, minimumWindow: 0)
        let body = String(buffer: SampleResponse.body(for: request, samples: samples))
        #expect(body == #"{"tagName":"a\"b","start":0,"end":20,"samples":[{"time":10,"values":null},{"time":20,"values":[1.5,-2.0]}]}"#)
    }

    @Test func measuredAtIsAddedOnRequest() throws {
        let request = try SampleRequest.parse(
            ["tag": "a", "domain": "ops", "start": "0", "end": "20", "samples": "2", "measured_at": "true"], now: 100, minimumWindow: 0
        )
        let body = String(buffer: SampleResponse.body(for: request, samples: samples))
        #expect(
            body == #"{"tagName":"a","domain":"ops","start":0,"end":20,"samples":[{"time":10,"values":null},{"time":20,"measuredAt":15,"values":[1.5,-2.0]}]}"#)
    }

    /// A sample's values are written in one piece into room reserved for the longest text a double has
    /// (24 bytes): values that all take that much, and none, come out whole and read back exactly.
    @Test func theLongestValuesAndNoneAreWrittenWhole() throws {
        let longest = (0..<1000).map { $0 % 2 == 0 ? -Double.leastNormalMagnitude : -Double.greatestFiniteMagnitude.nextDown }
        #expect(longest.allSatisfy { $0.description.utf8.count == 24 })
        let request = try SampleRequest.parse(["tag": "a", "start": "0", "end": "20", "samples": "2"], now: 100, minimumWindow: 0)
        let body = String(
            buffer: SampleResponse.body(
                for: request, samples: [Sample(time: 10, measuredAt: nil, values: []), Sample(time: 20, measuredAt: nil, values: longest)]))
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let read = try #require(answer["samples"] as? [[String: Any]])
        #expect((read[0]["values"] as? [Double]) == [])
        #expect((read[1]["values"] as? [Double]) == longest)
    }

    @Test func anAggregateAddsItsFunctionStepFillAndSource() throws {
        let request = try SampleRequest.parse(["tag": "a", "start": "0", "end": "20", "fn": "avg", "step": "10", "fill": "linear"], now: 100, minimumWindow: 0)
        guard case .aggregate(let aggregate) = request.reading else {
            Issue.record("fn=avg read as \(request.reading)")
            return
        }
        let buckets: [(time: Int64, values: [Double?]?)] = [(0, nil), (10, [2.5, nil])]
        let body = String(buffer: SampleResponse.body(for: request, aggregate: aggregate, tier: nil, buckets: buckets))
        #expect(
            body
                == #"{"tagName":"a","start":0,"end":20,"fn":"avg","step":10,"fill":"linear","source":"raw","samples":[{"time":0,"values":null},{"time":10,"values":[2.5,null]}]}"#
        )
    }
}
