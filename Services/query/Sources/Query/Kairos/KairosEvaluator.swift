import Logging
import PostgresNIO
import SluiceModel
import SluiceRuntime

/// Answers one metric of a KairosDB query: finds its series, groups them, and either merges their points
/// or aggregates them per sampling range (the first aggregator from the rollup tiers when its ranges are
/// whole minutes or hours, as `/api` does; each later one over the previous one's output, as KairosDB
/// chains them).
///
/// A KairosDB series has one value per point; a Sluice series may have up to ten: KairosDB reads see the
/// first (index 0).
struct KairosEvaluator: Sendable {
    struct Result: Sendable {
        var name: String
        var sampleSize: Int
        var groups: [Group]
    }

    struct Group: Sendable {
        /// The labels the series were grouped by (empty without `group_by`).
        var key: [String: String]
        var groupedBy: [String]
        /// Every label value of the group's series.
        var tags: [String: [String]]
        var points: [(time: Int64, value: Double)]
    }

    /// The aggregators Sluice computes, by KairosDB name.
    enum Function: String, CaseIterable, Sendable {
        case avg, min, max, sum, count, first, last
    }

    let catalog: KairosCatalog
    let aggregates: AggregateReader
    let client: PostgresClient
    /// The most points one group may return without an aggregator, and the most ranges an aggregator may make.
    let maximumPoints: Int

    func evaluate(_ metric: KairosQueryRequest.Metric, domain: String, window: (start: Int64, end: Int64), logger: Logger) async throws -> Result {
        let plan = try plan(metric, window: window)
        let series = try await catalog.series(domain: domain, name: metric.name, filters: metric.tags, logger: logger)
        guard series.count <= catalog.maximumSeries else {
            throw KairosError("metric \(metric.name) matches more than \(catalog.maximumSeries) series; filter by tags")
        }
        let grouping = metric.groupBy.flatMap(\.tags)
        var groups: [[String: String]: [KairosCatalog.Series]] = [:]
        for one in series {
            groups[one.labels.filter { grouping.contains($0.key) }, default: []].append(one)
        }
        if groups.isEmpty { groups[[:]] = [] }
        var result = Result(name: metric.name, sampleSize: 0, groups: [])
        for (key, members) in groups.sorted(by: { $0.key.sorted(by: <).description < $1.key.sorted(by: <).description }) {
            var tags: [String: Set<String>] = [:]
            for member in members { for (label, value) in member.labels { tags[label, default: []].insert(value) } }
            var (points, sampleSize) = try await points(of: members.map(\.id), plan: plan, window: window, logger: logger)
            if metric.descending { points.reverse() }
            if let limit = metric.limit, limit >= 0, points.count > limit { points.removeLast(points.count - limit) }
            result.sampleSize += sampleSize
            result.groups.append(Group(key: key, groupedBy: grouping, tags: tags.mapValues { $0.sorted() }, points: points))
        }
        return result
    }

    /// An aggregator resolved: what it computes over which ranges.
    struct Step: Sendable {
        var function: Function
        var sampling: Int64
        var aligned: Bool
    }

    func plan(_ metric: KairosQueryRequest.Metric, window: (start: Int64, end: Int64)) throws(KairosError) -> [Step] {
        var steps: [Step] = []
        for (index, aggregator) in metric.aggregators.enumerated() {
            let context = "metric \(metric.name) aggregator[\(index)] (\(aggregator.name))"
            guard let function = Function(rawValue: aggregator.name) else {
                throw KairosError("\(context): not an aggregator Sluice computes; use one of \(Function.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let sampling = aggregator.sampling else { throw KairosError("\(context): sampling is required") }
            let length: Int64
            switch sampling.nanoseconds(allowingCalendarUnits: false) {
            case .success(let value): length = value
            case .failure(let error): throw error.prefixed("\(context) sampling")
            }
            let ranges = (window.end - window.start) / length + 2
            guard ranges <= Int64(maximumPoints) else {
                throw KairosError("\(context): sampling makes \(ranges) ranges; the limit is \(maximumPoints), sample more coarsely")
            }
            steps.append(Step(function: function, sampling: length, aligned: aggregator.alignSampling))
        }
        return steps
    }

    /// The ranges of an aggregator over the window: aligned to multiples of the sampling since the epoch,
    /// or starting at the window's start.
    static func grid(for step: Step, window: (start: Int64, end: Int64)) -> BucketGrid {
        if step.aligned { return BucketGrid(start: window.start, end: window.end, step: step.sampling) }
        let count = (window.end - window.start + step.sampling - 1) / step.sampling
        return BucketGrid(first: window.start, step: step.sampling, count: Int(count))
    }

    private func points(of ids: [Int64], plan: [Step], window: (start: Int64, end: Int64), logger: Logger) async throws -> ([(time: Int64, value: Double)], Int) {
        guard !ids.isEmpty else { return ([], 0) }
        guard let first = plan.first else {
            let points = try await rawPoints(of: ids, window: window, logger: logger)
            return (points, points.count)
        }
        let grid = Self.grid(for: first, window: window)
        var merged = [KairosBucket?](repeating: nil, count: grid.count)
        for id in ids {
            let (_, states) = try await aggregates.states(seriesID: id, grid: grid, logger: logger)
            for (index, state) in states.enumerated() {
                guard let state, let bucket = KairosBucket(state) else { continue }
                if merged[index] != nil { merged[index]?.merge(bucket) } else { merged[index] = bucket }
            }
        }
        let sampleSize = merged.reduce(0) { $0 + ($1?.count ?? 0) }
        var points = merged.enumerated().compactMap { index, bucket in
            bucket.map { (time: grid.first + Int64(index) * grid.step, value: $0.value(of: first.function)) }
        }
        for step in plan.dropFirst() {
            points = Self.aggregate(points, by: step, window: window)
        }
        return (points, sampleSize)
    }

    /// A later aggregator over the previous one's points.
    static func aggregate(_ points: [(time: Int64, value: Double)], by step: Step, window: (start: Int64, end: Int64)) -> [(time: Int64, value: Double)] {
        let grid = grid(for: step, window: window)
        var buckets = [KairosBucket?](repeating: nil, count: grid.count)
        for point in points {
            guard let index = grid.index(of: point.time) else { continue }
            let bucket = KairosBucket(time: point.time, value: point.value)
            if buckets[index] != nil { buckets[index]?.merge(bucket) } else { buckets[index] = bucket }
        }
        return buckets.enumerated().compactMap { index, bucket in
            bucket.map { (time: grid.first + Int64(index) * grid.step, value: $0.value(of: step.function)) }
        }
    }

    /// Every point of the series in the window, merged in time order (value index 0).
    private func rawPoints(of ids: [Int64], window: (start: Int64, end: Int64), logger: Logger) async throws -> [(time: Int64, value: Double)] {
        let rows = try await client.query(
            """
            select ts, vals[1] from measurements where series_id = any(\(ids)) and ts >= \(window.start) and ts < \(window.end)
            order by ts limit \(maximumPoints + 1)
            """,
            logger: logger
        )
        var points: [(time: Int64, value: Double)] = []
        for try await (time, value) in rows.decode((Int64, Double).self) { points.append((time, value)) }
        guard points.count <= maximumPoints else {
            throw KairosError("more than \(maximumPoints) data points match; add an aggregator with sampling, or narrow the time range")
        }
        return points
    }
}

/// One range's aggregate of value index 0, over any number of series.
struct KairosBucket: Sendable, Equatable {
    var count: Int
    var sum: Double
    var minimum: Double
    var maximum: Double
    var first: Double
    var firstTime: Int64
    var last: Double
    var lastTime: Int64

    init(time: Int64, value: Double) {
        (count, sum, minimum, maximum, first, last, firstTime, lastTime) = (1, value, value, value, value, value, time, time)
    }

    /// Index 0 of a series' bucket; nil when it holds no value there.
    init?(_ state: BucketState) {
        guard let count = state.counts.first, count > 0 else { return nil }
        self.count = Int(count)
        sum = state.sums[0]
        minimum = state.minimums[0]
        maximum = state.maximums[0]
        first = state.firsts[0]
        last = state.lasts[0]
        firstTime = state.firstTime
        lastTime = state.lastTime
    }

    /// Merges another series' bucket (or a later point); of equal times the first merged stays first.
    mutating func merge(_ other: KairosBucket) {
        count += other.count
        sum += other.sum
        minimum = Swift.min(minimum, other.minimum)
        maximum = Swift.max(maximum, other.maximum)
        if other.firstTime < firstTime { (first, firstTime) = (other.first, other.firstTime) }
        if other.lastTime > lastTime { (last, lastTime) = (other.last, other.lastTime) }
    }

    func value(of function: KairosEvaluator.Function) -> Double {
        switch function {
        case .avg: sum / Double(count)
        case .min: minimum
        case .max: maximum
        case .sum: sum
        case .count: Double(count)
        case .first: first
        case .last: last
        }
    }
}
