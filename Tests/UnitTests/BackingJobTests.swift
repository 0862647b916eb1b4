import Logging
import SluiceModel
import Synchronization
import Testing

@testable import Bridge

/// A backing job's cache logic in-process, against a series held in memory: what it copies, what it
/// fetches, and what it holds. (BridgeTests prove the same against the real query service.)
@Suite struct BackingJobTests {
    /// One series' measurements, answered as `/api` would: the latest value at or before each point.
    final class SeriesInMemory: GridSource {
        let measurements = Mutex<[(time: Int64, value: Double)]>([])
        let valueRequests = Atomic<Int>(0)

        func add(seconds: Double, _ value: Double) {
            measurements.withLock {
                $0.append((Int64(seconds * 1e9), value))
                $0.sort { $0.time < $1.time }
            }
        }

        func values(of series: SeriesKey, function: AggregateFunction?, first: Int64, last: Int64, resolutionMilliseconds: Int64) async throws
            -> [PointValues?]?
        {
            valueRequests.add(1, ordering: .relaxed)
            return (first...last).map { asOf($0 * resolutionMilliseconds * 1_000_000) }
        }

        func newestMeasurement(of series: SeriesKey) async throws -> Int64?? {
            .some(measurements.withLock { $0.last?.time })
        }

        func asOf(_ time: Int64) -> PointValues? {
            measurements.withLock { $0.last { $0.time <= time } }.map { PointValues([$0.value]) }
        }
    }

    let key = JobKey(series: SeriesKey(domain: "d", tag: "t"), resolutionMilliseconds: 1000)

    func job(_ source: SeriesInMemory) -> BackingJob {
        let work = BackgroundWork()
        Task { await work.run() }  // in the service, the job registry's run() owns this
        return BackingJob(
            key: key, source: source, work: work,
            settings: .init(healthCheckInterval: .seconds(5), fullRefreshInterval: .seconds(3600)),
            metrics: BridgeMetrics(), logger: Logger(label: "backing-job-test")
        )
    }

    /// The job's values for points `first…last`, waiting for fills.
    func window(_ job: BackingJob, _ first: Int64, _ last: Int64) async throws -> [PointValues?] {
        guard case .slots(_, let slots) = await job.window(first: first, last: last, fillTimeout: .seconds(5)) else {
            Issue.record("the series was unknown")
            return []
        }
        return try slots.enumerated().map { offset, slot in
            guard case .filled(let point) = slot else { throw Unfilled() }
            // What the answer writes for the point carries the point's own time, fetched or carried forward.
            if let point { #expect(point.timeMilliseconds == (first + Int64(offset)) * 1000) }
            return point?.values
        }
    }

    struct Unfilled: Error {}

    @Test func aWindowSlidingPastTheNewestMeasurementCopiesWithoutFetching() async throws {
        let source = SeriesInMemory()
        source.add(seconds: 120, 1)
        source.add(seconds: 150.5, 2)
        let job = job(source)
        #expect(try await window(job, 100, 200) == (100...200).map { source.asOf($0 * 1_000_000_000) })
        let fetches = source.valueRequests.load(ordering: .relaxed)
        #expect(try await window(job, 105, 205) == (105...205).map { source.asOf($0 * 1_000_000_000) })
        #expect(source.valueRequests.load(ordering: .relaxed) == fetches, "nothing newer exists: new points are copies")
    }

    @Test func dataStoredBeforeTheJobPastItsLastPointIsFetchedNotCopied() async throws {
        let source = SeriesInMemory()
        source.add(seconds: 150, 1)
        source.add(seconds: 200.5, 7)  // between points 200 and 201, stored before the job existed
        let job = job(source)
        #expect(try await window(job, 100, 200).last == PointValues([1]))
        let later = try await window(job, 101, 201)
        #expect(later.last == PointValues([7]), "point 201 must hold the measurement at 200.5 s")
        #expect(later == (101...201).map { source.asOf($0 * 1_000_000_000) })
    }

    @Test func aChangeRecordRefetchesCopiedPoints() async throws {
        let source = SeriesInMemory()
        source.add(seconds: 150, 1)
        let job = job(source)
        _ = try await window(job, 100, 200)
        _ = try await window(job, 101, 203)  // 201–203 copied
        source.add(seconds: 202, 9)
        await job.changed(minTime: 202_000_000_000, maxTime: 202_000_000_000)
        let deadline = ContinuousClock.now + .seconds(5)
        var answer = try await window(job, 101, 203)
        while answer.last != PointValues([9]), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            answer = try await window(job, 101, 203)
        }
        #expect(answer == (101...203).map { source.asOf($0 * 1_000_000_000) })
    }

    @Test func aFarWindowReplacesTheGridInsteadOfSpanningTheGap() async throws {
        let source = SeriesInMemory()
        source.add(seconds: 50, 3)
        let job = job(source)
        _ = try await window(job, 100, 1000)
        let near = job.cachedBytes.load(ordering: .relaxed)
        #expect(try await window(job, 10_000_000, 10_000_900).allSatisfy { $0 == PointValues([3]) })
        #expect(job.cachedBytes.load(ordering: .relaxed) <= near * 2, "the grid spans the gap between the windows")
    }
}
