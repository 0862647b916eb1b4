import ServiceLifecycle

/// A one-time signal from one service of a process to another: "the schema is migrated", for example.
/// One task waits; it returns once `open()` was called, or when it is cancelled.
public final class ReadySignal: Sendable {
    private let stream: AsyncStream<Never>
    private let continuation: AsyncStream<Never>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Never.self)
    }

    public func open() {
        continuation.finish()
    }

    public func wait() async {
        for await _ in stream {}
    }

    /// Waits for the signal, or for the service group to begin stopping (which opens it, so a service
    /// asked to stop before it was ready returns instead of waiting on).
    public func waitUnlessStopping() async {
        await withGracefulShutdownHandler {
            await wait()
        } onGracefulShutdown: {
            self.open()
        }
    }
}
