import Synchronization

/// The signatures accepted lately, so that a captured signed request is accepted once.
///
/// A signature is remembered until its request's date is `maximumClockSkewSeconds` old: after that the
/// date check refuses it anyway. Each process remembers its own; several ingest replicas behind one
/// address would each accept a replay once (see docs/OPERATIONS.md).
public final class ReplayGuard: Sendable {
    public enum Outcome: Equatable {
        case fresh
        case replay
        /// More signatures are remembered than the limit allows: refuse rather than forget one early.
        case full
    }

    private struct Signature: Hashable {
        var words: (UInt64, UInt64, UInt64, UInt64)

        init(_ bytes: [UInt8]) {
            func word(_ offset: Int) -> UInt64 {
                (0..<8).reduce(UInt64(0)) { value, index in
                    let position = offset + index
                    return value << 8 | UInt64(position < bytes.count ? bytes[position] : 0)
                }
            }
            words = (word(0), word(8), word(16), word(24))
        }

        static func == (left: Signature, right: Signature) -> Bool { left.words == right.words }
        func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }
    }

    private struct State {
        var seen: Set<Signature> = []
        /// Signatures by the second after which they can be forgotten.
        var byExpiry: [Int64: [Signature]] = [:]
        var purgedThrough: Int64 = .min
    }

    private let state = Mutex(State())
    private let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// Records a signature (32 bytes) of a request dated `date`, unless it was seen already.
    public func admit(signature: [UInt8], date: Int64, now: Int64) -> Outcome {
        let signature = Signature(signature)
        return state.withLock { state in
            Self.purge(&state, now: now)
            guard !state.seen.contains(signature) else { return .replay }
            guard state.seen.count < limit else { return .full }
            state.seen.insert(signature)
            state.byExpiry[date + AuthSettings.maximumClockSkewSeconds, default: []].append(signature)
            return .fresh
        }
    }

    /// Forgets a signature whose request was not carried out (503, 429), so the client's retry of the
    /// very same request is not taken for a replay.
    public func forget(signature: [UInt8]) {
        let signature = Signature(signature)
        state.withLock { _ = $0.seen.remove(signature) }
    }

    public var count: Int { state.withLock { $0.seen.count } }

    private static func purge(_ state: inout State, now: Int64) {
        guard now > state.purgedThrough else { return }
        for expiry in state.byExpiry.keys where expiry < now {
            for signature in state.byExpiry.removeValue(forKey: expiry) ?? [] { state.seen.remove(signature) }
        }
        state.purgedThrough = now
    }
}
