import Foundation
import SluiceModel
import SluiceRuntime

/// The labelled series of a batch that may be new, taken apart into name and labels (JSON) for the
/// `series` row a new one gets. Only tags in label form (ending in `}`) are parsed, so plain tags cost
/// nothing, and only series the writer holds no id for are given (`SeriesIDCache.lookUp(_:)`): a
/// series that has its row needs neither, and parsing every labelled tag of every batch cost the writer
/// about a fifth of its CPU under a labelled load.
struct LabelledSeries {
    var domains: [String] = []
    var tags: [String] = []
    var names: [String] = []
    var labels: [String] = []

    /// - Parameter series: distinct series.
    init(_ series: [SeriesKey]) {
        let encoder = JSONEncoder.sorted
        for key in series where key.tag.utf8.last == UInt8(ascii: "}") {
            let parsed = SeriesName.parse(key.tag)
            guard !parsed.labels.isEmpty, let json = try? encoder.encode(parsed.labels) else { continue }
            domains.append(key.domain)
            tags.append(key.tag)
            names.append(parsed.name)
            labels.append(String(decoding: json, as: UTF8.self))
        }
    }
}
