import Query
import SluiceModel
import SluiceRuntime
import Testing

@Suite struct SampleRequestTests {
    let now: Int64 = 1_800_000_000_000_000_000
    let tenMinutes: Int64 = 600_000_000_000

    func parse(_ parameters: [String: String]) throws(APIError) -> SampleRequest {
        try SampleRequest.parse(parameters, now: now, minimumWindow: tenMinutes)
    }

    func message(_ parameters: [String: String]) -> String? {
        do {
            _ = try parse(parameters)
            return nil
        } catch {
            #expect(error.status == .badRequest)
            return error.message
        }
    }

    @Test func absoluteWindowWithDefaults() throws {
        let request = try parse(["tag": "cpu", "start": "1000", "end": "\(1000 + tenMinutes)"])
        #expect(request.series == SeriesKey(domain: "default", tag: "cpu"))
        #expect(request.reading == .asOf(SampleGrid(start: 1000, end: 1000 + tenMinutes, count: 1000)))
    }

    @Test func negativeTimesCountBackFromNowAndEndDefaultsToNow() throws {
        let request = try parse(["tag": "cpu", "start": "-3600000000000", "samples": "10", "domain": "ops"])
        #expect(request.reading == .asOf(SampleGrid(start: now - 3_600_000_000_000, end: now, count: 10)))
        #expect(request.series.domain == "ops")
        let relativeEnd = try parse(["tag": "cpu", "start": "-7200000000000", "end": "-3600000000000"])
        #expect(relativeEnd.end == now - 3_600_000_000_000)
    }

    @Test func everyBadParameterIsNamed() {
        #expect(message([:])?.contains("tag is required") == true)
        #expect(message(["tag": "", "start": "1"])?.contains("tag is empty") == true)
        #expect(message(["tag": "cpu"])?.contains("start is required") == true)
        #expect(message(["tag": "cpu", "start": "yesterday"])?.contains("start must be an integer") == true)
        #expect(message(["tag": "cpu", "start": "\(now)", "end": "\(now - 1)"])?.contains("must be after start") == true)
        #expect(message(["tag": "cpu", "start": "\(now)", "end": "\(now)"])?.contains("must be after start") == true)
        #expect(message(["tag": "cpu", "start": "-60000000000"])?.contains("at least") == true)
        #expect(message(["tag": "cpu", "start": "-3600000000000", "samples": "0"])?.contains("samples must be") == true)
        #expect(message(["tag": "cpu", "start": "-3600000000000", "samples": "10001"])?.contains("samples must be") == true)
        #expect(message(["tag": "cpu", "start": "-9223372036854775807"])?.contains("before the Unix epoch") == true)
        #expect(message(["tag": "cpu", "start": "-3600000000000", "domain": "a b"])?.contains("domain") == true)
    }
}
