import Logging
import SluiceModel
import Synchronization

/// Keeps one series' grid at one resolution filled and fresh, for every caller that asks for it.
///
/// The grid is a contiguous run of slots, `firstIndex…lastIndex`, point `i` standing at `i × resolution`,
/// covering the windows asked for and never much more: a window far from the grid replaces it. It is
/// filled from the query service once; after that only what changed is fetched again:
/// - a change record from the writer marks every point at or after its earliest time dirty;
/// - points a window gains are fetched, unless the job knows that no measurement exists after its last
///   point: then each new point's as-of value is the last one, and it is copied. The job knows the
///   series' newest measurement from a probe at its first fill (and each full refresh) and from every
///   change record since, so data stored before the job existed can never be skipped. A grid that
///   follows the present takes each point as it passes (`maintain`), so sliding windows find it ready;
/// - unfilled points (a failed fetch, a window that grew) are retried with backoff;
/// - the whole grid is fetched again every `fullRefreshInterval`, repairing any change record lost.
///
/// One refresh runs at a time; changes arriving meanwhile are picked up by the next pass.
actor BackingJob {
    struct Settings: Sendable {
        var healthCheckInterval: Duration
        var fullRefreshInterval: Duration
        /// How soon a series the query service did not know is asked about again.
        var unknownSeriesRecheck: Duration = .seconds(1)
        var firstRetry: Duration = .milliseconds(250)
    }

    private struct Waiter {
        var first: Int64
        var last: Int64
        var continuation: CheckedContinuation<Void, Never>
    }

    nonisolated let key: JobKey
    /// When a caller last asked for this job, on `MonotonicClock`; read by the registry without a hop.
    nonisolated let lastAsked = Atomic<Int64>(0)
    /// An estimate of the memory the grid holds, for the cache's cap.
    nonisolated let cachedBytes = Atomic<Int>(0)

    private let source: any GridSource
    /// Where refreshes and fill timers run: tasks the registry owns.
    private let work: BackgroundWork
    private let settings: Settings
    private let metrics: BridgeMetrics
    private let logger: Logger

    private var firstIndex: Int64 = 0
    private var slots: [GridSlot] = []
    /// Every point at or after this needs fetching again; it may lie past the grid's end.
    private var dirtyFrom: Int64?
    /// The newest measurement time (ns) the probe found; nil until probed, and again whenever changes
    /// may have been missed. Without it nothing is copied forward.
    private var probedNewest: Int64??
    /// The newest measurement time named by a change record since the job started.
    private var newestChanged = Int64.min
    /// Bumped whenever changes may have been missed, so a probe that was running then is not trusted.
    private var probeGeneration = 0
    private var refreshing = false
    private var retryAt: ContinuousClock.Instant?
    private var backoff: Duration
    private var unknownSince: ContinuousClock.Instant?
    /// The last fill failed, or outlasted a caller's wait: until one succeeds, callers answer at once with
    /// their unfilled points instead of each waiting out the fill timeout.
    private var fillsFailing = false
    private var lastFullRefresh: ContinuousClock.Instant
    /// The earliest point asked for in this trim period and the one before; points before both are dropped.
    private var lowestAsked: (current: Int64, previous: Int64) = (.max, .max)
    private var lastTrim = ContinuousClock.now
    private var waiters: [Int: Waiter] = [:]
    private var nextWaiterID = 0
    private var stopped = false

    init(key: JobKey, source: any GridSource, work: BackgroundWork, settings: Settings, metrics: BridgeMetrics, logger: Logger) {
        self.key = key
        self.source = source
        self.work = work
        self.settings = settings
        self.metrics = metrics
        self.backoff = settings.firstRetry
        // Jobs started together (a dashboard opening, a warm-up) would otherwise all refresh in full in the
        // same sweep, every interval: a burst of whole-window queries. A random phase spreads them out.
        let intervalMilliseconds = max(1, settings.fullRefreshInterval.wholeMilliseconds)
        self.lastFullRefresh = ContinuousClock.now - .milliseconds(Int64.random(in: 0..<intervalMilliseconds))
        var logger = logger
        logger[metadataKey: "job"] = "\(key)"
        self.logger = logger
    }

    private var lastIndex: Int64 { firstIndex + Int64(slots.count) - 1 }
    private var resolutionNanoseconds: Int64 { key.resolutionMilliseconds * 1_000_000 }

    /// The slots of grid points `first…last`. A window not yet filled waits up to `fillTimeout` for its
    /// first fill, and returns early if that fill fails: unfilled points are the caller's
    /// `missing_timestamps`, never a hang.
    func window(first: Int64, last: Int64, fillTimeout: Duration) async -> JobAnswer {
        guard first <= last else { return .slots(first: first, []) }
        lowestAsked.current = min(lowestAsked.current, first)
        cover(first, last)
        kick()
        let hit = isFilled(first, last) && unknownSince == nil
        if hit { metrics.hits.increment() } else { metrics.misses.increment() }
        if !hit && refreshing && !fillsFailing && fillTimeout > .zero {
            await waitForFill(first, last, timeout: fillTimeout)
            cover(first, last)  // the grid may have moved on while this request waited
        }
        if unknownSince != nil { return .unknownSeries }
        let lower = Int(first - firstIndex)
        return .slots(first: first, Array(slots[lower...lower + Int(last - first)]))
    }

    /// The writer committed measurements of this series between these times (ns).
    func changed(minTime: Int64, maxTime: Int64) {
        newestChanged = max(newestChanged, maxTime)
        let from = Resolution.firstPoint(atOrAfter: minTime, step: resolutionNanoseconds)
        dirtyFrom = min(dirtyFrom ?? from, from)
        if unknownSince != nil {
            unknownSince = nil
            retryAt = nil
        }
        kick()
    }

    /// Everything may have changed (the change feed was interrupted): fetch the whole grid again.
    func invalidate() {
        dirtyFrom = firstIndex
        probedNewest = nil
        probeGeneration += 1
        kick()
    }

    /// The periodic health check: starts the full refresh when due, brings in points that changed data
    /// has reached since the last request, and retries unfilled points once their backoff has passed.
    /// - Parameter nowMilliseconds: wall-clock time, which grid points may not pass.
    func maintain(nowMilliseconds: Int64) {
        let now = ContinuousClock.now
        if now - lastFullRefresh >= settings.fullRefreshInterval {
            lastFullRefresh = now
            dirtyFrom = firstIndex
            probedNewest = nil
            probeGeneration += 1
        }
        // Points pass into the present one by one; fetch each as it does rather than on the next request,
        // so the next caller finds it ready. Only a grid that follows the present does this: a window in
        // the past is not dragged forward to now.
        let nowIndex = nowMilliseconds / key.resolutionMilliseconds
        if !slots.isEmpty, nowIndex > lastIndex, nowIndex - lastIndex <= Self.followingLag {
            cover(firstIndex, nowIndex)
        }
        trim()
        kick()
    }

    /// Stops refreshing and releases anyone waiting; the registry has dropped the job.
    func stop() {
        stopped = true
        for waiter in waiters.values { waiter.continuation.resume() }
        waiters = [:]
    }

    // MARK: - The grid

    /// Makes the grid hold `first…last`, with unfilled points for whatever it lacked. A window further from
    /// the grid than its own length replaces it, so a job's memory stays within about twice the windows
    /// asked for (a window from 1970 and one for now never become one grid of 10⁹ points).
    private func cover(_ first: Int64, _ last: Int64) {
        let span = last - first + 1
        guard !slots.isEmpty, first <= lastIndex + span, last >= firstIndex - span else {
            firstIndex = first
            slots = Array(repeating: .unfilled, count: Int(span))
            lowestAsked = (first, first)
            updateBytes()
            return
        }
        if first < firstIndex {
            slots.insert(contentsOf: repeatElement(.unfilled, count: Int(firstIndex - first)), at: 0)
            firstIndex = first
        }
        if last > lastIndex {
            switch nothingAfterLastPoint ? slots[slots.count - 1] : .unfilled {
            case .filled(let point?):
                // The same values at each later point, stamped with that point's time.
                for index in lastIndex + 1...last {
                    slots.append(.filled(point.moved(toMilliseconds: index * key.resolutionMilliseconds)))
                }
            case let carried:
                slots.append(contentsOf: repeatElement(carried, count: Int(last - lastIndex)))
            }
        }
        updateBytes()
    }

    /// True when the last point is filled and no measurement of the series is newer than it, so every
    /// later point's as-of value is the same: the one case where a value may be copied forward.
    private var nothingAfterLastPoint: Bool {
        guard case .filled = slots.last, case .some(let probed) = probedNewest else { return false }
        let newest = max(probed ?? .min, newestChanged)
        return newest <= lastIndex * resolutionNanoseconds
    }

    /// Drops the points no one has asked for in a full trim period, as sliding windows leave them behind.
    /// A window still being answered was noted in `lowestAsked` before it could wait, so it keeps its points.
    private func trim() {
        let now = ContinuousClock.now
        guard now - lastTrim >= Self.trimPeriod else { return }
        lastTrim = now
        let keepFrom = min(lowestAsked.current, lowestAsked.previous)
        lowestAsked = (.max, lowestAsked.current)
        guard keepFrom != .max, firstIndex < keepFrom, keepFrom <= lastIndex else { return }
        slots.removeFirst(Int(keepFrom - firstIndex))
        firstIndex = keepFrom
        updateBytes()
    }

    static let trimPeriod: Duration = .seconds(30)
    /// A grid ending at most this many points before now follows the present (see `maintain`).
    static let followingLag: Int64 = 60

    private func isFilled(_ first: Int64, _ last: Int64) -> Bool {
        let lower = max(first, firstIndex)
        let upper = min(last, lastIndex)
        guard lower <= upper else { return true }
        return slots[Int(lower - firstIndex)...Int(upper - firstIndex)].allSatisfy(\.isFilled)
    }

    /// Where the next refresh must start, or nil when the grid is complete and clean.
    private func pendingFrom() -> Int64? {
        var from: Int64?
        if let dirtyFrom, dirtyFrom <= lastIndex { from = max(dirtyFrom, firstIndex) }
        if let unfilled = slots.firstIndex(where: { !$0.isFilled }) {
            from = min(from ?? .max, firstIndex + Int64(unfilled))
        }
        return from
    }

    private func updateBytes() {
        // An enum slot each, plus an array header and the JSON text of each filled one. Counted, not
        // estimated from one slot: a grid still filling would otherwise look several times its size and
        // be evicted before its first answer.
        var bytes = slots.count * MemoryLayout<GridSlot>.stride
        for case .filled(let point?) in slots { bytes += 32 + point.json.count }
        cachedBytes.store(bytes, ordering: .relaxed)
    }

    // MARK: - Refreshing

    /// Starts a refresh pass unless one is running, the job is backing off, or there is nothing to do.
    private func kick() {
        guard !stopped, !refreshing, !slots.isEmpty else { return }
        if let retryAt, ContinuousClock.now < retryAt { return }
        guard pendingFrom() != nil else { return }
        refreshing = true
        if !work.start({ await self.refreshUntilClean() }) { refreshing = false }
    }

    private func refreshUntilClean() async {
        defer {
            refreshing = false
            updateBytes()
        }
        while !stopped, let from = pendingFrom() {
            let to = lastIndex
            if let dirty = dirtyFrom, dirty <= to { dirtyFrom = nil }
            metrics.refreshes.increment()
            let values: [PointValues?]?
            do {
                if probedNewest == nil {
                    // Probed before the values: anything stored later comes with a change record.
                    let generation = probeGeneration
                    guard let newest = try await source.newestMeasurement(of: key.series) else { throw UnknownSeriesFound() }
                    if generation == probeGeneration { probedNewest = .some(newest) }
                }
                values = try await source.values(
                    of: key.series, function: key.function, first: from, last: to, resolutionMilliseconds: key.resolutionMilliseconds
                )
            } catch is UnknownSeriesFound {
                unknownSince = ContinuousClock.now
                retryAt = ContinuousClock.now + settings.unknownSeriesRecheck
                releaseWaiters { _ in true }
                return
            } catch {
                dirtyFrom = min(dirtyFrom ?? from, from)
                retryAt = ContinuousClock.now + backoff
                logger.warning("refresh failed; unfilled points are retried", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                backoff = min(backoff * 2, settings.healthCheckInterval)
                fillsFailing = true
                metrics.refreshFailures.increment()
                releaseWaiters { _ in true }
                return
            }
            guard let values else {
                unknownSince = ContinuousClock.now
                retryAt = ContinuousClock.now + settings.unknownSeriesRecheck
                releaseWaiters { _ in true }
                return
            }
            unknownSince = nil
            retryAt = nil
            fillsFailing = false
            backoff = settings.firstRetry
            apply(values, from: from, to: to)
            releaseWaiters { self.isFilled($0.first, $0.last) }
        }
    }

    /// Stores fetched points `from…to` that the grid still holds (it may have moved while the fetch ran;
    /// a point's value does not depend on the grid around it). Points gained meanwhile stay unfilled and
    /// are fetched by the next pass.
    private func apply(_ values: [PointValues?], from: Int64, to: Int64) {
        for (offset, value) in values.enumerated() {
            let index = from + Int64(offset)
            guard index >= firstIndex, index <= lastIndex else { continue }
            slots[Int(index - firstIndex)] = .filled(value.map { StampedPoint(timeMilliseconds: index * key.resolutionMilliseconds, values: $0) })
        }
    }

    // MARK: - Waiting for a first fill

    private func waitForFill(_ first: Int64, _ last: Int64, timeout: Duration) async {
        let id = nextWaiterID
        nextWaiterID += 1
        await withCheckedContinuation { continuation in
            waiters[id] = Waiter(first: first, last: last, continuation: continuation)
            let started = work.start {
                try? await Task.sleep(for: timeout)  // cut short by shutdown, which then releases the waiter
                await self.timeOutWaiter(id)
            }
            if !started { timeOutWaiter(id) }
        }
    }

    private func timeOutWaiter(_ id: Int) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        fillsFailing = true
        waiter.continuation.resume()
    }

    private func releaseWaiters(where shouldRelease: (Waiter) -> Bool) {
        for (id, waiter) in waiters where shouldRelease(waiter) {
            waiters[id] = nil
            waiter.continuation.resume()
        }
    }
}

/// The probe found the series unknown; handled like an unknown answer to a fill.
private struct UnknownSeriesFound: Error {}
