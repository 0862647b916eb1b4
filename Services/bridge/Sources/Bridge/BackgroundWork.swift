/// Where backing jobs run their refreshes and fill timers: child tasks of the job registry's `run()`,
/// not detached tasks, so that shutdown cancels them and waits for them.
final class BackgroundWork: Sendable {
    typealias Work = @Sendable () async -> Void

    private let stream: AsyncStream<Work>
    private let continuation: AsyncStream<Work>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Work.self)
    }

    /// Starts `work` as a child of `run()`.
    /// - Returns: false once `finish()` was called; the work is then not run.
    @discardableResult
    func start(_ work: @escaping Work) -> Bool {
        if case .terminated = continuation.yield(work) { return false }
        return true
    }

    /// Runs every started piece of work as a child task until `finish()`, then cancels what is still
    /// running and waits for it.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await work in stream {
                group.addTask { await work() }
            }
            group.cancelAll()
        }
    }

    func finish() {
        continuation.finish()
    }
}
