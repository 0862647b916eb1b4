import Foundation
import NIOCore
import SluiceModel
import SluiceRuntime
import SluiceSigning
import Testing

@testable import Bridge

@Suite struct BridgeWindowTests {
    @Test func resolutionRoundsUpTheLadderAndKeepsWindowsNearAThousandPoints() {
        #expect(Resolution.milliseconds(window: 900_000, hint: nil) == 1_000)
        #expect(Resolution.milliseconds(window: 10_000, hint: nil) == 1_000)  // short windows are fine
        #expect(Resolution.milliseconds(window: 900_001, hint: nil) == 1_000)
        #expect(Resolution.milliseconds(window: 1_000_001, hint: nil) == 5_000)
        #expect(Resolution.milliseconds(window: 3_600_000, hint: nil) == 5_000)
        #expect(Resolution.milliseconds(window: 900_000, hint: 7_000) == 10_000)
        #expect(Resolution.milliseconds(window: 86_400_000, hint: nil) == 300_000)
        #expect(Resolution.milliseconds(window: 400 * 86_400_000, hint: nil) == 86_400_000)
        #expect(Resolution.milliseconds(window: 2_000 * 86_400_000, hint: nil) == 2 * 86_400_000)
    }

    @Test func relativeWindowsAlignToTheGrid() throws {
        let now: Int64 = 1_700_000_123_456
        let request = try WindowRequest.parse(Data(#"{"tag":"cpu","start_time_ms":-900000}"#.utf8), nowMilliseconds: now)
        #expect(request.series == [SeriesKey(domain: Measurement.defaultDomain, tag: "cpu")])
        #expect(request.startMilliseconds == now - 900_000)
        #expect(request.endMilliseconds == now)
        #expect(request.resolutionMilliseconds == 1_000)
        #expect(request.firstIndex == 1_699_999_224)  // ceil((now − 900 s) / 1 s)
        #expect(request.lastIndex == 1_700_000_123)  // floor(now / 1 s): no point in the future
        let later = try WindowRequest.parse(
            Data(#"{"tags":["a","b"],"domain":"ops","start_time_ms":-900000,"end_time_ms":-1}"#.utf8), nowMilliseconds: now + 4_000)
        #expect(later.series.map(\.domain) == ["ops", "ops"])
        #expect(later.firstIndex == request.firstIndex + 4)  // the window slid by four points and shares the rest
    }

    @Test func badRequestsSayWhatToFix() {
        let cases: [(String, String)] = [
            (#"{"start_time_ms":-1000}"#, "\"tag\""),
            (#"{"tag":"a","tags":["b"],"start_time_ms":-1000}"#, "not both"),
            (#"{"tag":"a"}"#, "start_time_ms is required"),
            (#"{"tag":"a","start_time_ms":"soon"}"#, "start_time_ms has the wrong type"),
            (#"{"tag":"a","start_time_ms":-1000,"end_time_ms":-2000}"#, "must be after"),
            (#"{"tag":"a","start_time_ms":-1000,"resolution_hint_ms":0}"#, "resolution_hint_ms"),
            (#"{"tags":[],"start_time_ms":-1000}"#, "1 to 100"),
            (#"{"tags":["a","a"],"start_time_ms":-1000}"#, "twice"),
            (#"{"tag":"","start_time_ms":-1000}"#, "tag"),
            (#"{"tag":"a","start_time_ms":-99999999999999}"#, "before the Unix epoch"),
            ("[1,2]", "JSON object"),
            ("{", "not valid JSON"),
        ]
        for (body, expected) in cases {
            do {
                _ = try WindowRequest.parse(Data(body.utf8), nowMilliseconds: 1_700_000_000_000)
                Issue.record("accepted \(body)")
            } catch {
                #expect(error.status == .badRequest)
                #expect(error.message.contains(expected), "\(body) → \(error.message)")
            }
        }
    }

    @Test func responseOmitsEmptyPointsAndNamesUnfilledOnes() throws {
        let request = try WindowRequest.parse(Data(#"{"tag":"t\"q","start_time_ms":10000,"end_time_ms":14000}"#.utf8), nowMilliseconds: 20_000)
        func point(_ milliseconds: Int64, _ values: [Double]) -> GridSlot {
            .filled(StampedPoint(timeMilliseconds: milliseconds, values: PointValues(values)))
        }
        let slots: [GridSlot] = [.filled(nil), point(11000, [1.5, -2]), .unfilled, point(13000, [3, 0.25]), point(14000, [4, 1])]
        let text = String(buffer: WindowResponse.body(for: request, slots: [(request.series[0], request.firstIndex, slots)]))
        #expect(
            text
                == #"{"start_time_ms":10000,"end_time_ms":14000,"earliest_result_ms":11000,"latest_result_ms":14000,"resolution_ms":1000,"metadata":{"t\"q":{"domain":"default","tag":"t\"q","values":2}},"data":{"t\"q":[[11000,[1.5,-2.0]],[13000,[3.0,0.25]],[14000,[4.0,1.0]]]},"missing_timestamps":[12000]}"#
        )
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
    }

    @Test func changesDirtyTheFirstGridPointThatSeesThem() {
        #expect(Resolution.firstPoint(atOrAfter: 5_000_000_000, step: 1_000_000_000) == 5)
        #expect(Resolution.firstPoint(atOrAfter: 5_000_000_001, step: 1_000_000_000) == 6)
        #expect(Resolution.firstPoint(atOrAfter: 4_999_999_999, step: 1_000_000_000) == 5)
        #expect(Resolution.firstPoint(atOrAfter: 0, step: 1_000_000_000) == 0)
    }

    @Test func tagsAreEscapedForTheQueryURL() {
        #expect(CanonicalQuery.percentEncode("disk/sda1 ü&x=1") == "disk%2Fsda1%20%C3%BC%26x%3D1")
    }
}
