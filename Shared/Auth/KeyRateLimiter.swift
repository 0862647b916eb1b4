import SluiceModel
import Synchronization

/// A token bucket per key: each key may make `rate` requests a second of one process on average, in
/// bursts of up to one second's worth, so one tenant cannot starve the others.
public final class KeyRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let rate: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(requestsPerSecond: Int) {
        rate = Double(requestsPerSecond)
    }

    /// nil when the request may go ahead, else the whole seconds to wait before the next one would.
    public func admit(_ keyID: String, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[keyID] ?? Bucket(tokens: rate, updated: now)
            let elapsed = now - bucket.updated
            bucket.tokens = min(rate, bucket.tokens + max(0, elapsed.fractionalSeconds) * rate)
            bucket.updated = now
            defer { buckets[keyID] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }
}
