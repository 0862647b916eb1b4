/// Tracks sends that wait for the broker's acknowledgement of every message they enqueued.
///
/// Each send registers its message count under an id that travels with every message as librdkafka's
/// opaque; delivery reports count down, and the send resumes when all are in or the first one failed.
/// The tracker itself is a plain value kept behind the producer's lock; resuming happens outside it.
struct DeliveryTracker {
    typealias Continuation = CheckedContinuation<Void, any Error>

    private struct Pending {
        var remaining: Int
        var failure: KafkaError?
        var continuation: Continuation
    }

    private var nextID: UInt = 1
    private var pending: [UInt: Pending] = [:]

    /// Starts tracking a send of `count` messages (count ≥ 1).
    mutating func register(count: Int, continuation: Continuation) -> UInt {
        let id = nextID
        nextID &+= 1
        if nextID == 0 { nextID = 1 }  // zero would be a null opaque pointer
        pending[id] = Pending(remaining: count, failure: nil, continuation: continuation)
        return id
    }

    /// Records that `count` messages of send `id` are settled, with a failure if they were not delivered.
    /// - Returns: the continuation to resume and its outcome, once the whole send is settled.
    mutating func settle(id: UInt, count: Int = 1, failure: KafkaError?) -> (Continuation, KafkaError?)? {
        guard var entry = pending[id] else { return nil }
        entry.remaining -= count
        if entry.failure == nil { entry.failure = failure }
        if entry.remaining > 0 {
            pending[id] = entry
            return nil
        }
        pending[id] = nil
        return (entry.continuation, entry.failure)
    }

    /// Fails every send still waiting; used when the producer closes with messages undelivered.
    mutating func removeAll() -> [Continuation] {
        let continuations = pending.values.map(\.continuation)
        pending.removeAll()
        return continuations
    }
}
