import Logging
import ServiceLifecycle
import SluiceModel
import Synchronization

/// The backing jobs, one per series, resolution and reading.
///
/// Getting a job and creating it happen under one lock, which is what makes "one job however many
/// callers arrive at once" hold; SignalVortex claimed jobs in two steps and raced. A sweeper expires idle
/// jobs, evicts the least recently asked past the memory cap, and gives each job its health check.
///
/// A series the query service does not know keeps no job: it is remembered in a bounded set and
/// answered at once until a change record names it (or `unknownSeriesTime` passes, in case the record
/// was lost), so a flood of unknown tags costs one query each, then nothing.
final class JobRegistry: Service, Sendable {
    struct Limits: Sendable {
        var idleTime: Duration
        var cacheBytes: Int
        /// How often the sweeper runs; each job's own backoff decides whether it acts.
        var sweepInterval: Duration = .milliseconds(250)
        /// How long a series the query service did not know is answered as unknown without asking again.
        var unknownSeriesTime: Duration = .seconds(60)
        /// How many unknown series are remembered; past it the oldest are forgotten (and asked again).
        var unknownSeriesCount = 100_000
    }

    private let jobs = Mutex<[SeriesKey: [JobKey: BackingJob]]>([:])
    private let unknown = Mutex(UnknownSeries())
    /// The jobs' refreshes and timers, run as children of `run()`.
    let work = BackgroundWork()
    private let makeJob: @Sendable (JobKey, BackgroundWork) -> BackingJob
    private let limits: Limits
    private let metrics: BridgeMetrics
    private let logger: Logger

    /// - Parameter makeJob: builds a job that runs its background work in the given place.
    init(limits: Limits, metrics: BridgeMetrics, logger: Logger, makeJob: @escaping @Sendable (JobKey, BackgroundWork) -> BackingJob) {
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
        self.makeJob = makeJob
    }

    /// The job for `key`, started if there is none; marks it asked for now.
    func job(for key: JobKey) -> BackingJob {
        let now = MonotonicClock.milliseconds()
        let (job, created, count) = jobs.withLock { jobs -> (BackingJob, Bool, Int) in
            if let existing = jobs[key.series]?[key] {
                existing.lastAsked.store(now, ordering: .relaxed)
                return (existing, false, 0)
            }
            let job = makeJob(key, work)
            job.lastAsked.store(now, ordering: .relaxed)
            jobs[key.series, default: [:]][key] = job
            return (job, true, jobs.values.reduce(0) { $0 + $1.count })
        }
        if created {
            metrics.jobsStarted.increment()
            metrics.activeJobs.record(count)
            logger.debug("backing job started", metadata: ["job": "\(key)"])
        }
        return job
    }

    /// The slots of `first…last` for `key`'s series, from its job (started if need be); an unknown series
    /// is answered from memory, and a job that finds its series unknown is dropped at once (and the
    /// series remembered as unknown, unless a change record named it while it was asked).
    func window(for key: JobKey, first: Int64, last: Int64, fillTimeout: Duration) async -> JobAnswer {
        let now = ContinuousClock.now
        guard unknown.withLock({ $0.beginAsking(key.series, at: now) }) else { return .unknownSeries }
        let job = job(for: key)
        let answer = await job.window(first: first, last: last, fillTimeout: fillTimeout)
        let answeredUnknown = if case .unknownSeries = answer { true } else { false }
        let removed =
            answeredUnknown
            && jobs.withLock { jobs in
                guard jobs[key.series]?[key] === job else { return false }
                Self.remove(job, from: &jobs)
                return true
            }
        unknown.withLock {
            $0.endAsking(key.series, answeredUnknown: answeredUnknown, until: now + limits.unknownSeriesTime, keepingAtMost: limits.unknownSeriesCount)
        }
        if removed { await job.stop() }
        return answer
    }

    /// Tells every job of this series what the writer committed.
    func changed(_ series: SeriesKey, minTime: Int64, maxTime: Int64) async {
        unknown.withLock { $0.remove(series) }
        guard let seriesJobs = jobs.withLock({ $0[series].map { Array($0.values) } }) else { return }
        for job in seriesJobs { await job.changed(minTime: minTime, maxTime: maxTime) }
    }

    /// Makes every job fetch its whole grid again, and forgets which series were unknown: changes may
    /// have been missed.
    func invalidateAll() async {
        unknown.withLock { $0.removeAll() }
        for job in allJobs() { await job.invalidate() }
    }

    /// Sweeps until shutdown, with every job's refreshes and timers as child tasks; on shutdown it stops
    /// the jobs (releasing anyone waiting), cancels their work and waits for it.
    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.work.run() }
            while !Task.isShuttingDownGracefully {
                do {
                    try await Task.sleep(for: limits.sweepInterval)
                } catch {
                    break
                }
                await sweep()
            }
            for job in allJobs() { await job.stop() }
            work.finish()
        }
    }

    /// Expires idle jobs, evicts past the memory cap, and runs every remaining job's health check.
    func sweep() async {
        let now = MonotonicClock.milliseconds()
        let idleLimit = limits.idleTime.wholeMilliseconds
        let (idle, evicted, remaining, bytes) = jobs.withLock { jobs -> ([BackingJob], [BackingJob], [BackingJob], Int) in
            var all = jobs.values.flatMap(\.values)
            let idle = all.filter { now - $0.lastAsked.load(ordering: .relaxed) >= idleLimit }
            for job in idle { Self.remove(job, from: &jobs) }
            all.removeAll { now - $0.lastAsked.load(ordering: .relaxed) >= idleLimit }
            var bytes = all.reduce(0) { $0 + $1.cachedBytes.load(ordering: .relaxed) }
            var evicted: [BackingJob] = []
            if bytes > limits.cacheBytes {
                // Least recently asked first, however recently: the cap holds even under a flood of new
                // windows. A request still being answered keeps its job alive until it is done.
                all.sort { $0.lastAsked.load(ordering: .relaxed) < $1.lastAsked.load(ordering: .relaxed) }
                while bytes > limits.cacheBytes, let oldest = all.first {
                    all.removeFirst()
                    bytes -= oldest.cachedBytes.load(ordering: .relaxed)
                    Self.remove(oldest, from: &jobs)
                    evicted.append(oldest)
                }
            }
            return (idle, evicted, all, bytes)
        }
        // The gauges first: the jobs below are already gone from the registry.
        metrics.activeJobs.record(remaining.count)
        metrics.cacheBytes.record(bytes)
        for job in idle {
            await job.stop()
            metrics.idleEvictions.increment()
            logger.debug("backing job expired", metadata: ["job": "\(job.key)"])
        }
        for job in evicted {
            await job.stop()
            metrics.memoryEvictions.increment()
            logger.info("backing job evicted to stay under the cache cap", metadata: ["job": "\(job.key)"])
        }
        let wallClock = WallClock.nowNanoseconds() / 1_000_000
        for job in remaining { await job.maintain(nowMilliseconds: wallClock) }
    }

    private func allJobs() -> [BackingJob] {
        jobs.withLock { $0.values.flatMap(\.values) }
    }

    private static func remove(_ job: BackingJob, from jobs: inout [SeriesKey: [JobKey: BackingJob]]) {
        jobs[job.key.series]?[job.key] = nil
        if jobs[job.key.series]?.isEmpty == true { jobs[job.key.series] = nil }
    }
}
