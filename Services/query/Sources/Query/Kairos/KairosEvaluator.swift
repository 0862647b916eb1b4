import Logging
import PostgresNIO
import SluiceModel
import SluiceRuntime
import SluiceStorage

/// Answers one metric of a KairosDB query: finds its series, groups them, and either merges their points
/// or runs its aggregators in KairosDB's order, each over the previous one's output. A first range
/// aggregator reads the rollup tiers when its ranges are whole minutes or hours, as `/api` does, and
/// only the points inside the window, as KairosDB does; ranges, alignment, stamps and `rate` follow
/// KairosDB's `RangeAggregator` and `RateAggregator`.
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
        let grouping = metric.groupBy.flatMap(\.tags)
        var groups: [[String: String]: [KairosCatalog.Series]] = [:]
        for one in series {
            groups[one.labels.filter { grouping.contains($0.key) }, default: []].append(one)
        }
        if groups.isEmpty { groups[[:]] = [] }
        var result = Result(name: metric.name, sampleSize: 0, groups: [])
        for (key, members) in groups.sorted(by: { $0.key.sorted(by: <).description < $1.key.sorted(by: <).description }) {
            var (points, sampleSize) = try await points(of: members.map(\.id), plan: plan, window: window, logger: logger)
            if metric.descending { points.reverse() }
            if let limit = metric.limit, points.count > limit { points.removeLast(points.count - limit) }
            result.sampleSize += sampleSize
            result.groups.append(Group(key: key, groupedBy: grouping, tags: KairosCatalog.tags(of: members), points: points))
        }
        return result
    }

    /// Which time an aggregated point carries (KairosDB's `align_start_time` and `align_end_time`).
    enum Stamp: Sendable {
        /// The time of the range's first point: KairosDB's default.
        case firstPoint
        case rangeStart
        case rangeEnd
    }

    /// A range aggregator resolved: ranges of `sampling` ns counted from `origin`, as KairosDB's
    /// `RangeAggregator` counts them (`origin + k × sampling`, k truncated towards zero).
    struct Ranges: Sendable {
        var function: Function
        var sampling: Int64
        var origin: Int64
        var stamp: Stamp

        /// The start of the range a time falls in; a time before the origin counts in the first range, as
        /// Java's truncating division puts it there.
        func rangeStart(of time: Int64) -> Int64 { origin + (time - origin) / sampling * sampling }

        func stamp(rangeStart: Int64, firstTime: Int64) -> Int64 {
            switch stamp {
            case .firstPoint: firstTime
            case .rangeStart: rangeStart
            case .rangeEnd: rangeStart + sampling
            }
        }
    }

    /// One aggregator of a metric, in the order KairosDB chains them.
    enum Step: Sendable {
        case ranges(Ranges)
        /// KairosDB's `rate`: the change between consecutive points per `per` ns, stamped with the later point.
        case rate(per: Int64)
    }

    static let aggregatorNames = Function.allCases.map(\.rawValue) + ["rate"]

    func plan(_ metric: KairosQueryRequest.Metric, window: (start: Int64, end: Int64)) throws(KairosError) -> [Step] {
        var steps: [Step] = []
        for (index, aggregator) in metric.aggregators.enumerated() {
            let context = "metric \(metric.name) aggregator[\(index)] (\(aggregator.name))"
            if aggregator.name == "rate" {
                // KairosDB's rate takes `sampling`, or `unit` for one of it, and defaults to a millisecond.
                let per = aggregator.sampling ?? aggregator.unit.map { KairosDuration(value: 1, unit: $0) } ?? KairosDuration(value: 1, unit: "milliseconds")
                switch per.nanoseconds(allowingCalendarUnits: false) {
                case .success(let value): steps.append(.rate(per: value))
                case .failure(let error): throw error.prefixed("\(context) sampling")
                }
                continue
            }
            guard let function = Function(rawValue: aggregator.name) else {
                throw KairosError("\(context): not an aggregator Sluice computes; use one of \(Self.aggregatorNames.joined(separator: ", "))")
            }
            guard let sampling = aggregator.sampling else { throw KairosError("\(context): sampling is required") }
            let length: Int64
            switch sampling.nanoseconds(allowingCalendarUnits: false) {
            case .success(let value): length = value
            case .failure(let error): throw error.prefixed("\(context) sampling")
            }
            let origin = aggregator.alignSampling ? Self.alignedOrigin(of: window.start, unit: sampling.unit) : window.start
            let ranges = (window.end - window.start) / length + 2
            guard ranges <= Int64(maximumPoints) else {
                throw KairosError("\(context): sampling makes \(ranges) ranges; the limit is \(maximumPoints), sample more coarsely")
            }
            steps.append(.ranges(Ranges(function: function, sampling: length, origin: origin, stamp: aggregator.stamp)))
        }
        return steps
    }

    /// Where aligned ranges start counting, as KairosDB aligns them in UTC: the second for a sampling in
    /// milliseconds, the day for seconds to days, the week (Monday) for weeks.
    static func alignedOrigin(of start: Int64, unit: String) -> Int64 {
        let second: Int64 = 1_000_000_000
        let day = 86_400 * second
        switch unit.lowercased() {
        case "milliseconds": return start / second * second
        case "weeks":
            let days = start / day
            return (days - (days + 3) % 7) * day  // 1970-01-01 was a Thursday: three days after a Monday
        default: return start / day * day
        }
    }

    /// The ranges of a first aggregator that meet the window, counted from its origin.
    static func grid(for ranges: Ranges, window: (start: Int64, end: Int64)) -> BucketGrid {
        let first = ranges.rangeStart(of: window.start)
        let count = (window.end - first + ranges.sampling - 1) / ranges.sampling
        return BucketGrid(first: first, step: ranges.sampling, count: Int(count))
    }

    private func points(of ids: [Int64], plan: [Step], window: (start: Int64, end: Int64), logger: Logger) async throws -> ([(time: Int64, value: Double)], Int)
    {
        guard !ids.isEmpty else { return ([], 0) }
        var points: [(time: Int64, value: Double)]
        let sampleSize: Int
        var later = plan[...]
        if case .ranges(let first)? = plan.first {
            (points, sampleSize) = try await aggregated(ids, by: first, window: window, logger: logger)
            later = plan.dropFirst()
        } else {
            points = try await rawPoints(of: ids, window: window, logger: logger)
            sampleSize = points.count
        }
        for step in later {
            switch step {
            case .ranges(let ranges): points = Self.aggregate(points, by: ranges)
            case .rate(let per): points = try Self.rate(points, per: per)
            }
        }
        return (points, sampleSize)
    }

    /// A first range aggregator, from the rollup tiers where its ranges allow, over the series merged.
    private func aggregated(_ ids: [Int64], by ranges: Ranges, window: (start: Int64, end: Int64), logger: Logger) async throws -> (
        [(time: Int64, value: Double)], Int
    ) {
        let grid = Self.grid(for: ranges, window: window)
        var merged = [KairosBucket?](repeating: nil, count: grid.count)
        for id in ids {
            for (index, bucket) in try await buckets(of: id, grid: grid, window: window, logger: logger).enumerated() {
                guard let bucket else { continue }
                merged[index].merge(bucket)
            }
        }
        let sampleSize = merged.reduce(0) { $0 + ($1?.count ?? 0) }
        let points = merged.enumerated().compactMap { index, bucket in
            bucket.map { (time: ranges.stamp(rangeStart: grid.start(ofBucket: index), firstTime: $0.firstTime), value: $0.value(of: ranges.function)) }
        }
        return (points, sampleSize)
    }

    /// Each range's aggregate over the points inside the window only, as KairosDB reads no point outside
    /// it: one read, from the tiers where a range lies wholly inside the window (and they allow), and a
    /// first or last range that reaches past it over its part inside.
    private func buckets(of id: Int64, grid: BucketGrid, window: (start: Int64, end: Int64), logger: Logger) async throws -> [KairosBucket?] {
        try await aggregates.states(seriesID: id, grid: grid, within: window.start..<window.end, logger: logger).states.map { $0.flatMap(KairosBucket.init) }
    }

    /// A later range aggregator over the previous one's points (in time order): one point per range that
    /// holds any.
    static func aggregate(_ points: [(time: Int64, value: Double)], by ranges: Ranges) -> [(time: Int64, value: Double)] {
        var result: [(time: Int64, value: Double)] = []
        var current: (start: Int64, bucket: KairosBucket)?
        for point in points {
            let start = ranges.rangeStart(of: point.time)
            if let open = current, open.start == start {
                current?.bucket.merge(KairosBucket(time: point.time, value: point.value))
                continue
            }
            if let open = current {
                result.append((ranges.stamp(rangeStart: open.start, firstTime: open.bucket.firstTime), open.bucket.value(of: ranges.function)))
            }
            current = (start, KairosBucket(time: point.time, value: point.value))
        }
        if let open = current {
            result.append((ranges.stamp(rangeStart: open.start, firstTime: open.bucket.firstTime), open.bucket.value(of: ranges.function)))
        }
        return result
    }

    /// KairosDB's rate over points in time order: for each consecutive pair, the change divided by the
    /// milliseconds between them times the sampling's milliseconds, in that order, stamped with the later
    /// point. Like KairosDB, two points in the same millisecond have no rate.
    static func rate(_ points: [(time: Int64, value: Double)], per: Int64) throws(KairosError) -> [(time: Int64, value: Double)] {
        var result: [(time: Int64, value: Double)] = []
        result.reserveCapacity(max(0, points.count - 1))
        for (before, after) in zip(points, points.dropFirst()) {
            let (from, to) = (before.time / 1_000_000, after.time / 1_000_000)
            guard to != from else {
                throw KairosError("rate: two points at \(to) ms have no rate between them; put another aggregator (avg, last, …) before rate, as KairosDB asks")
            }
            result.append((after.time, (after.value - before.value) / Double(to - from) * Double(per / 1_000_000)))
        }
        return result
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

extension Optional where Wrapped == KairosBucket {
    /// Starts the range's aggregate with `other`, or merges `other` into it.
    mutating func merge(_ other: KairosBucket) {
        if case .some(var bucket) = self {
            bucket.merge(other)
            self = bucket
        } else {
            self = other
        }
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
