import SluiceFormats
import SluiceModel
import Testing

/// Prometheus remote write bodies read into measurements: names and labels, ms times, and the samples
/// Sluice skips rather than refusing a whole batch for.
@Suite struct RemoteWriteTests {
    func series(_ labels: [(String, String)], _ samples: [(Int64, Double)], histograms: Int = 0) -> Prometheus_TimeSeries {
        var series = Prometheus_TimeSeries()
        series.labels = labels.map { name, value in
            var label = Prometheus_Label()
            label.name = name
            label.value = value
            return label
        }
        series.samples = samples.map { time, value in
            var sample = Prometheus_Sample()
            sample.timestamp = time
            sample.value = value
            return sample
        }
        series.histograms = Array(repeating: Prometheus_Histogram(), count: histograms)
        return series
    }

    func body(_ series: [Prometheus_TimeSeries]) throws -> [UInt8] {
        var request = Prometheus_WriteRequest()
        request.timeseries = series
        return Snappy.compress(try request.serializedBytes())
    }

    @Test func eachSampleIsAMeasurementOfItsSeries() throws {
        let decoded = try RemoteWrite.decode(
            try body([
                series([("__name__", "up"), ("instance", "a:9100"), ("job", "node")], [(1_700_000_000_123, 1), (1_700_000_001_123, 0)]),
                series([("job", "x"), ("__name__", "temp"), ("empty", "")], [(5, -2.5)]),
            ]), domain: "prom", limit: 1 << 20)
        #expect(
            decoded.measurements == [
                Measurement(domain: "prom", tag: #"up{instance="a:9100",job="node"}"#, time: 1_700_000_000_123_000_000, values: [1]),
                Measurement(domain: "prom", tag: #"up{instance="a:9100",job="node"}"#, time: 1_700_000_001_123_000_000, values: [0]),
                Measurement(domain: "prom", tag: #"temp{job="x"}"#, time: 5_000_000, values: [-2.5]),
            ])
        #expect(decoded.skipped.isEmpty)
    }

    @Test func samplesSluiceCannotStoreAreSkippedAndCountedNotRefused() throws {
        let stale = Double(bitPattern: 0x7FF0_0000_0000_0002)
        let decoded = try RemoteWrite.decode(
            try body([
                series([("__name__", "ok")], [(1, 1), (2, stale), (3, .nan), (4, .infinity), (-5, 1), (9_300_000_000_000_000, 1)]),
                series([("job", "no-name")], [(1, 1)]),
                series([("__name__", "hist")], [], histograms: 2),
                series([("__name__", "m{x}")], [(1, 1)]),
            ]), domain: "prom", limit: 1 << 20)
        #expect(decoded.measurements == [Measurement(domain: "prom", tag: "ok", time: 1_000_000, values: [1])])
        #expect(decoded.skipped == [.staleMarker: 1, .nonFinite: 2, .invalidTime: 2, .invalidSeries: 2, .histogram: 2])
        #expect(decoded.examples.contains { $0.contains("no-name") && $0.hasSuffix("invalid_series") })
    }

    @Test func unreadableBodiesAreRefused() throws {
        #expect(throws: RemoteWrite.Problem.self) { try RemoteWrite.decode(Array("not snappy".utf8), domain: "d", limit: 1 << 20) }
        // Snappy, but not a WriteRequest.
        #expect(throws: RemoteWrite.Problem.self) { try RemoteWrite.decode(Snappy.compress([0xFF, 0xFF, 0xFF]), domain: "d", limit: 1 << 20) }
        // A body that inflates past the limit is refused before it is inflated.
        let large = try body([series([("__name__", String(repeating: "x", count: 5000))], [(1, 1)])])
        #expect(throws: RemoteWrite.Problem.self) { try RemoteWrite.decode(large, domain: "d", limit: 1000) }
    }
}
