import Synchronization

/// A cap on requests a service works on at once; past it, callers are turned away instead of queued.
///
/// A flood of expensive requests would otherwise queue without bound for the connection pool, each
/// waiting longer than any client does; a quick 503 with `Retry-After` lets the client back off.
public final class InFlightLimit: Sendable {
    private let running = Atomic<Int>(0)
    public let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// Runs `work` if fewer than `limit` calls are running; nil, without running it, otherwise.
    public func run<T>(_ work: () async throws -> T) async rethrows -> T? {
        guard running.add(1, ordering: .acquiring).newValue <= limit else {
            running.subtract(1, ordering: .releasing)
            return nil
        }
        defer { running.subtract(1, ordering: .releasing) }
        return try await work()
    }

    /// Calls running now, for tests and metrics.
    public var current: Int { running.load(ordering: .relaxed) }
}
