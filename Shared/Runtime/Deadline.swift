import Synchronization

/// Thrown by ``withAbandoningDeadline(_:operation:)`` when the operation outlived its limit.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "gave up after \(limit)" }
}

/// Runs `operation` but stops waiting for it after `limit`, throwing ``DeadlineExceeded``.
///
/// Why not a task group with a timer: a group waits for all of its children, so an operation that ignores
/// cancellation would still hold its caller forever. Seen in practice with a PostgreSQL COPY whose
/// connection was killed mid-stream: the call never returned while the pool went on serving other
/// queries. Here the late operation is cancelled and left to finish on its own; its result is dropped.
public func withAbandoningDeadline<T: Sendable>(
    _ limit: Duration,
    operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation, limit: limit, operation: operation)
        }
    } onCancel: {
        race.cancelWork()
    }
}

/// The state shared by the operation and its timer: whichever finishes first resumes the caller, once.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>, limit: Duration, operation: @escaping @Sendable () async throws -> T) {
        state.withLock { $0.continuation = continuation }
        let work = Task {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            self.finish(with: result)
        }
        let timer = Task {
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            self.finish(with: .failure(DeadlineExceeded(limit: limit)))
        }
        let (finishedAlready, cancelledAlready) = state.withLock { state in
            state.work = work
            state.timer = timer
            return (state.continuation == nil, state.cancelled)
        }
        if finishedAlready { timer.cancel() }
        if cancelledAlready { work.cancel() }
    }

    func cancelWork() {
        let work = state.withLock { state in
            state.cancelled = true
            return state.work
        }
        work?.cancel()
    }

    private func finish(with result: Result<T, any Error>) {
        let (continuation, work, timer) = state.withLock { state in
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.timer)
        }
        guard let continuation else { return }
        timer?.cancel()
        if case .failure(let error) = result, error is DeadlineExceeded { work?.cancel() }
        continuation.resume(with: result)
    }
}
