import SluiceModel

/// Series the query service said it never stored, each until a deadline, at most a given number.
///
/// Kept by the job registry so that asking again for an unknown series costs neither a job nor a query.
struct UnknownSeries {
    private var until: [SeriesKey: ContinuousClock.Instant] = [:]
    /// Insertion order, for forgetting the oldest first; may hold series already removed.
    private var order: [SeriesKey] = []
    private var orderStart = 0

    var count: Int { until.count }

    func contains(_ series: SeriesKey, at now: ContinuousClock.Instant) -> Bool {
        until[series].map { now < $0 } ?? false
    }

    mutating func insert(_ series: SeriesKey, until deadline: ContinuousClock.Instant, keepingAtMost limit: Int) {
        if until.updateValue(deadline, forKey: series) == nil { order.append(series) }
        while until.count > limit, orderStart < order.count {
            until[order[orderStart]] = nil
            orderStart += 1
        }
        // Compact the order list once its dead front outgrows the live part.
        if orderStart > max(1024, order.count / 2) {
            order = order[orderStart...].filter { until[$0] != nil }
            orderStart = 0
        }
    }

    mutating func remove(_ series: SeriesKey) {
        until[series] = nil
    }
}
