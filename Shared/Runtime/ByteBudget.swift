import Synchronization

/// A cap on the bytes a service holds for requests at once; a request that would pass it is turned away.
///
/// Ingest keeps each body, its decoded messages and their Kafka copies until Kafka acknowledges them:
/// several times the body's size. Without a cap, a few concurrent 16 MiB bodies could exhaust memory.
public final class ByteBudget: Sendable {
    private let held = Atomic<Int>(0)
    public let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// Holds `bytes` while `work` runs, if they fit beside what is held; nil, without running it, if not.
    /// A request larger than the whole budget still runs when nothing else is held, so no size is refused
    /// for good.
    public func run<T>(holding bytes: Int, _ work: () async throws -> T) async rethrows -> T? {
        guard reserve(bytes) else { return nil }
        defer { held.subtract(bytes, ordering: .releasing) }
        return try await work()
    }

    /// Bytes held now, for metrics and tests.
    public var current: Int { held.load(ordering: .relaxed) }

    private func reserve(_ bytes: Int) -> Bool {
        var current = held.load(ordering: .relaxed)
        while true {
            guard current == 0 || current + bytes <= limit else { return false }
            let (exchanged, original) = held.compareExchange(expected: current, desired: current + bytes, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
    }
}
