import Logging
import SluiceModel
import Synchronization
import Testing

@testable import Bridge

/// The registry in-process: one job per key however many callers, idle expiry, eviction order, and
/// unknown series that keep no job.
@Suite struct JobRegistryTests {
    typealias SeriesInMemory = BackingJobTests.SeriesInMemory

    /// A source that has never stored anything, counting what it is asked.
    final class EmptySource: GridSource {
        let asked = Atomic<Int>(0)
        func values(of series: SeriesKey, function: AggregateFunction?, first: Int64, last: Int64, resolutionMilliseconds: Int64) async throws
            -> [PointValues?]?
        {
            asked.add(1, ordering: .relaxed)
            return nil
        }
        func newestMeasurement(of series: SeriesKey) async throws -> Int64?? {
            asked.add(1, ordering: .relaxed)
            return nil
        }
    }

    /// A source that has stored nothing when asked, but the writer commits the series while it is being
    /// asked: the change record reaches the registry before the answer "never stored" does.
    final class StoredWhileAsked: GridSource {
        let registry = Mutex<JobRegistry?>(nil)
        let asked = Atomic<Int>(0)
        func values(of series: SeriesKey, function: AggregateFunction?, first: Int64, last: Int64, resolutionMilliseconds: Int64) async throws
            -> [PointValues?]?
        {
            try await newestMeasurement(of: series).map { _ in [] }
        }
        func newestMeasurement(of series: SeriesKey) async throws -> Int64?? {
            asked.add(1, ordering: .relaxed)
            if let registry = registry.withLock({ $0 }) { await registry.changed(series, minTime: 1, maxTime: 1) }
            return nil
        }
    }

    func registry(_ source: any GridSource, idle: Duration = .seconds(600), cacheBytes: Int = 1 << 30) -> JobRegistry {
        let metrics = BridgeMetrics()
        let logger = Logger(label: "job-registry-test")
        let settings = BackingJob.Settings(healthCheckInterval: .seconds(5), fullRefreshInterval: .seconds(3600))
        let jobs = JobRegistry(limits: .init(idleTime: idle, cacheBytes: cacheBytes), metrics: metrics, logger: logger) { key, work in
            BackingJob(key: key, source: source, work: work, settings: settings, metrics: metrics, logger: logger)
        }
        Task { await jobs.work.run() }  // the registry's run() would own this; its sweeps are called by hand here
        return jobs
    }

    func key(_ tag: String) -> JobKey { JobKey(series: SeriesKey(domain: "d", tag: tag), resolutionMilliseconds: 1000) }

    @Test func concurrentCallersShareOneJob() async {
        let jobs = registry(SeriesInMemory())
        let got = await withTaskGroup(of: ObjectIdentifier.self) { group in
            for _ in 0..<64 { group.addTask { ObjectIdentifier(jobs.job(for: key("a"))) } }
            return await group.reduce(into: Set<ObjectIdentifier>()) { $0.insert($1) }
        }
        #expect(got.count == 1)
    }

    @Test func idleJobsAreExpiredBySweep() async throws {
        let jobs = registry(SeriesInMemory(), idle: .milliseconds(1))
        let first = jobs.job(for: key("a"))
        try await Task.sleep(for: .milliseconds(20))
        await jobs.sweep()
        #expect(jobs.job(for: key("a")) !== first)
    }

    @Test func pastTheCapTheLeastRecentlyAskedGoesFirst() async throws {
        let source = SeriesInMemory()
        source.add(seconds: 50, 1)
        // A cap one filled 900-point window fits under, and two do not.
        let probe = registry(source)
        _ = await probe.window(for: key("probe"), first: 100, last: 1000, fillTimeout: .seconds(5))
        let one = probe.job(for: key("probe")).cachedBytes.load(ordering: .relaxed)
        #expect(one > 0)
        let jobs = registry(source, cacheBytes: one * 3 / 2)
        _ = await jobs.window(for: key("old"), first: 100, last: 1000, fillTimeout: .seconds(5))
        try await Task.sleep(for: .milliseconds(5))
        _ = await jobs.window(for: key("new"), first: 100, last: 1000, fillTimeout: .seconds(5))
        // Looking a job up counts as asking for it: "new" is asked last, a few milliseconds later.
        let old = jobs.job(for: key("old"))
        try await Task.sleep(for: .milliseconds(5))
        let new = jobs.job(for: key("new"))
        await jobs.sweep()
        #expect(jobs.job(for: key("new")) === new)
        #expect(jobs.job(for: key("old")) !== old)
    }

    @Test func anUnknownSeriesKeepsNoJobAndIsNotAskedAgain() async {
        let source = EmptySource()
        let jobs = registry(source)
        guard case .unknownSeries = await jobs.window(for: key("nobody"), first: 1, last: 10, fillTimeout: .seconds(5)) else {
            Issue.record("an unknown series was answered")
            return
        }
        let asked = source.asked.load(ordering: .relaxed)
        guard case .unknownSeries = await jobs.window(for: key("nobody"), first: 1, last: 10, fillTimeout: .seconds(5)) else {
            Issue.record("an unknown series was answered")
            return
        }
        #expect(source.asked.load(ordering: .relaxed) == asked, "asked again")
        // Once the writer names it, it is asked again.
        await jobs.changed(SeriesKey(domain: "d", tag: "nobody"), minTime: 1, maxTime: 1)
        _ = await jobs.window(for: key("nobody"), first: 1, last: 10, fillTimeout: .seconds(5))
        #expect(source.asked.load(ordering: .relaxed) > asked)
    }

    @Test func aSeriesStoredWhileItWasAskedIsAskedAgain() async {
        let source = StoredWhileAsked()
        let jobs = registry(source)
        source.registry.withLock { $0 = jobs }
        // Answered "unknown": true when the query service answered, but no longer when it arrives.
        guard case .unknownSeries = await jobs.window(for: key("late"), first: 1, last: 10, fillTimeout: .seconds(5)) else {
            Issue.record("a series the source never stored was answered")
            return
        }
        let asked = source.asked.load(ordering: .relaxed)
        _ = await jobs.window(for: key("late"), first: 1, last: 10, fillTimeout: .seconds(5))
        #expect(source.asked.load(ordering: .relaxed) > asked, "a stored series was answered unknown from memory")
    }
}
