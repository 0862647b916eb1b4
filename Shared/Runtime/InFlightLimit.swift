import Synchronization

/// A cap on the work a service holds at once, counted in requests or in the bytes of their bodies; past
/// it, callers are turned away instead of queued.
///
/// A flood of expensive requests would otherwise queue without bound for the connection pool, and a few
/// concurrent large bodies (each held several times over until Kafka acknowledges it) could exhaust
/// memory; a quick 503 with `Retry-After` lets the client back off.
public final class InFlightLimit: Sendable {
    private let held = Atomic<Int>(0)
    public let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// Runs `work` holding `weight` units, if they fit beside what is held; nil, without running it, if
    /// not. A weight larger than the whole limit still runs when nothing else is held, so no request is
    /// refused for good.
    public func run<T>(weight: Int = 1, _ work: () async throws -> T) async rethrows -> T? {
        guard reserve(weight) else { return nil }
        defer { held.subtract(weight, ordering: .releasing) }
        return try await work()
    }

    /// Units held now, for tests and metrics.
    public var current: Int { held.load(ordering: .relaxed) }

    private func reserve(_ weight: Int) -> Bool {
        var current = held.load(ordering: .relaxed)
        while true {
            guard current == 0 || current + weight <= limit else { return false }
            let (exchanged, original) = held.compareExchange(expected: current, desired: current + weight, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
    }
}
