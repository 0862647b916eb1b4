import SluiceModel

/// Series the query service said it never stored, each until a deadline, at most a given number.
///
/// Kept by the job registry so that asking again for an unknown series costs neither a job nor a query.
/// An answer "unknown" is only remembered when no change record named the series while it was being
/// asked: the writer may commit, and its record arrive, between the query service's answer and its
/// arrival here, and remembering that answer would hide a stored series until its deadline.
struct UnknownSeries {
    private var until: [SeriesKey: ContinuousClock.Instant] = [:]
    /// Insertion order, for forgetting the oldest first; may hold series already removed.
    private var order: [SeriesKey] = []
    private var orderStart = 0
    /// Series being asked about now: how many asks are in flight, and whether a change record named the
    /// series since the oldest of them began.
    private var asking: [SeriesKey: (asks: Int, changed: Bool)] = [:]

    var count: Int { until.count }

    func contains(_ series: SeriesKey, at now: ContinuousClock.Instant) -> Bool {
        until[series].map { now < $0 } ?? false
    }

    /// Starts an ask about `series`, unless it is known to be unknown at `now`.
    /// - Returns: false when the series is known to be unknown (answer at once, ask nothing).
    mutating func beginAsking(_ series: SeriesKey, at now: ContinuousClock.Instant) -> Bool {
        if contains(series, at: now) { return false }
        asking[series, default: (asks: 0, changed: false)].asks += 1
        return true
    }

    /// Ends an ask begun with `beginAsking`; an answer "unknown" is remembered until `deadline` unless a
    /// change record named the series while any ask about it was in flight.
    mutating func endAsking(
        _ series: SeriesKey,
        answeredUnknown: Bool,
        until deadline: ContinuousClock.Instant,
        keepingAtMost limit: Int
    ) {
        guard var entry = asking[series] else { return }
        entry.asks -= 1
        asking[series] = entry.asks > 0 ? entry : nil
        if answeredUnknown, !entry.changed { insert(series, until: deadline, keepingAtMost: limit) }
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

    /// A change record named `series`: it is stored, and an ask in flight may have been answered before.
    mutating func remove(_ series: SeriesKey) {
        until[series] = nil
        asking[series]?.changed = true
    }

    /// Changes may have been missed: forgets every unknown series, and what is being asked now is
    /// not remembered as unknown either.
    mutating func removeAll() {
        until = [:]
        order = []
        orderStart = 0
        for series in asking.keys { asking[series]?.changed = true }
    }
}
