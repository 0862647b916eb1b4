import Foundation
import SluiceModel
import SluiceRuntime

/// The labelled series of a batch, taken apart into name and labels (JSON) for the `series` row a new
/// one gets. Only tags in label form (ending in `}`) are parsed, so plain tags cost nothing.
struct LabelledSeries {
    var domains: [String] = []
    var tags: [String] = []
    var names: [String] = []
    var labels: [String] = []

    init(_ measurements: [SluiceModel.Measurement]) {
        var seen: Set<SeriesKey> = []
        let encoder = JSONEncoder.sorted
        for measurement in measurements where measurement.tag.utf8.last == UInt8(ascii: "}") {
            let key = SeriesKey(domain: measurement.domain, tag: measurement.tag)
            guard seen.insert(key).inserted else { continue }
            let series = SeriesName.parse(measurement.tag)
            guard !series.labels.isEmpty, let json = try? encoder.encode(series.labels) else { continue }
            domains.append(measurement.domain)
            tags.append(measurement.tag)
            names.append(series.name)
            labels.append(String(decoding: json, as: UTF8.self))
        }
    }
}
