import SluiceFormats
import SluiceModel

/// Fuzzing of remote write decoding: random `WriteRequest`s, serialised by swift-protobuf, mutated at the
/// byte level before or after snappy compression, must decode or be refused without trapping; what
/// decodes must be measurements Sluice accepts, and an unmutated request must yield one measurement per
/// storable sample. A seed makes a run repeatable.
public struct RemoteWriteFuzzer: FormatFuzzer {
    public static let inputs = "remote write requests"

    private var random: SeededGenerator

    public init(seed: UInt64) {
        random = SeededGenerator(seed: seed)
    }

    public mutating func checkOne(into run: inout FuzzRun) {
        let (request, storable) = randomRequest()
        let plain = (try? request.serializedBytes()) ?? []
        let body = Snappy.compress(plain)
        switch Self.decode(body) {
        case .success(let decoded) where decoded.measurements.count == storable: break
        case .success(let decoded):
            run.record("\(decoded.measurements.count) measurements, \(storable) storable samples", input: Self.shown(body))
        case .failure(let problem):
            run.record("refused: \(problem)", input: Self.shown(body))
        }
        // Mutate the protobuf (then compress), or the compressed bytes themselves.
        let mutated = Bool.random(using: &random) ? Snappy.compress(random.mutate(plain)) : random.mutate(body)
        if case .success(let decoded) = Self.decode(mutated) {
            run.acceptedMutations += 1
            if let bad = decoded.measurements.first(where: { MeasurementLimits.problem(with: $0) != nil }) {
                run.record("decoded an unacceptable measurement \(bad)", input: Self.shown(mutated))
            }
        }
    }

    private static func decode(_ body: [UInt8]) -> Result<RemoteWrite.Decoded, RemoteWrite.Problem> {
        Result { () throws(RemoteWrite.Problem) in try RemoteWrite.decode(body, domain: "fuzz", limit: 1 << 20) }
    }

    private static func shown(_ body: [UInt8]) -> String {
        "body \(body.prefix(64).map { String($0, radix: 16) }.joined(separator: " "))"
    }

    private static let names = ["up", "http_requests_total", "node_cpu_seconds_total", "a:b_c", "x"]
    private static let labelNames = ["job", "instance", "cpu", "mode", "le", "__name__"]

    /// A request and how many of its samples are storable (finite, in time, in a well-formed series).
    private mutating func randomRequest() -> (Prometheus_WriteRequest, Int) {
        var request = Prometheus_WriteRequest()
        var storable = 0
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            var series = Prometheus_TimeSeries()
            var label = Prometheus_Label()
            label.name = "__name__"
            label.value = Self.names.randomElement(using: &random) ?? "x"
            series.labels = [label]
            var used: Set<String> = ["__name__"]
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                let name = Self.labelNames.randomElement(using: &random) ?? "job"
                guard used.insert(name).inserted else { continue }
                var extra = Prometheus_Label()
                extra.name = name
                extra.value = "v\(Int.random(in: 0...99, using: &random))"
                series.labels.append(extra)
            }
            for _ in 0..<Int.random(in: 0...5, using: &random) {
                var sample = Prometheus_Sample()
                sample.timestamp = Int64.random(in: 0...4_000_000_000_000, using: &random)
                switch Int.random(in: 0..<8, using: &random) {
                case 0: sample.value = .nan
                case 1: sample.value = Double(bitPattern: 0x7FF0_0000_0000_0002)
                default:
                    sample.value = Double(Int.random(in: -1_000_000...1_000_000, using: &random)) / 7
                    storable += 1
                }
                series.samples.append(sample)
            }
            request.timeseries.append(series)
        }
        return (request, storable)
    }
}
