import SluiceModel

/// A batch's measurements by series, grouped once: the rollups fold each series' points, and the change
/// feed announces each series' span.
struct BatchSeries {
    /// Each series' points in increasing time with one point per time: the first in Kafka order, which
    /// is the one the store kept if it was new.
    private(set) var points: [SeriesKey: [RollupWriter.Point]] = [:]

    init(_ measurements: [Measurement]) {
        for measurement in measurements {
            points[SeriesKey(domain: measurement.domain, tag: measurement.tag), default: []]
                .append(RollupWriter.Point(time: measurement.time, values: measurement.values))
        }
        var index = points.startIndex
        while index != points.endIndex {
            points.values[index].orderAndDeduplicate()  // in place
            points.formIndex(after: &index)
        }
    }

    /// One change per series: the earliest and latest time the batch holds for it.
    var changes: [SeriesChange] {
        points.compactMap { key, points in
            guard let first = points.first, let last = points.last else { return nil }
            return SeriesChange(series: key, minTime: first.time, maxTime: last.time)
        }
    }
}

extension [RollupWriter.Point] {
    /// Sorts by time, keeping of equal times only the first (producers usually send in order, so the
    /// common case is one pass).
    mutating func orderAndDeduplicate() {
        var ordered = true
        for index in indices.dropFirst() where self[index].time <= self[index - 1].time {
            ordered = false
            break
        }
        guard !ordered else { return }
        // By (time, arrival): the first of equal times stays first.
        self = enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        var kept = 0
        for index in indices where index == 0 || self[index].time != self[kept - 1].time {
            self[kept] = self[index]
            kept += 1
        }
        removeLast(count - kept)
    }
}
