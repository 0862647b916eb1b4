/// How the latency-checking client reads: seed 003's 10 clients, once a second, top-100 tags.
public struct ClientConfiguration: Sendable {
    public var url: String
    public var clients: Int
    public var interval: Duration
    public var duration: Duration
    public var topTags: Int
    public var shortestWindow: Duration
    public var longestWindow: Duration
    public var seed: UInt64
    /// Thresholds that make the run fail (exit non-zero).
    public var maxP99: Duration
    public var maxLagP99: Duration

    public init(
        url: String, clients: Int = 10, interval: Duration = .seconds(1), duration: Duration = .seconds(60), topTags: Int = 100,
        shortestWindow: Duration = .seconds(600), longestWindow: Duration = .seconds(86_400), seed: UInt64 = 2,
        maxP99: Duration = .milliseconds(100), maxLagP99: Duration = .seconds(2)
    ) {
        self.url = url
        self.clients = clients
        self.interval = interval
        self.duration = duration
        self.topTags = topTags
        self.shortestWindow = shortestWindow
        self.longestWindow = longestWindow
        self.seed = seed
        self.maxP99 = maxP99
        self.maxLagP99 = maxLagP99
    }
}
