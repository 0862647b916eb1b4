import SluiceRuntime
import Synchronization
import Testing

@Suite struct DeadlineTests {
    @Test func resultArrivesWhenInTime() async throws {
        let value = try await withAbandoningDeadline(.seconds(5)) { 42 }
        #expect(value == 42)
        await #expect(throws: CancellationError.self) {
            try await withAbandoningDeadline(.seconds(5)) { throw CancellationError() }
        }
    }

    /// The case the deadline exists for: work that ignores cancellation must not hold its caller.
    @Test func callerIsFreedFromWorkThatIgnoresCancellation() async throws {
        let release = Atomic<Bool>(false)
        let started = ContinuousClock.now
        await #expect(throws: DeadlineExceeded.self) {
            try await withAbandoningDeadline(.milliseconds(100)) {
                // Deliberately deaf to cancellation; bounded so the test leaves nothing behind.
                while !release.load(ordering: .relaxed), ContinuousClock.now - started < .seconds(10) {
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
        }
        let waited = ContinuousClock.now - started
        release.store(true, ordering: .relaxed)
        #expect(waited < .seconds(5), "waited \(waited)")
    }
}
