/// How the latency-checking client reads: seed 003's 10 clients, once a second, top-100 tags.
public struct ClientConfiguration: Sendable {
    /// Which services each read goes to. With both, the same (tag, window) is asked of the bridge and then
    /// of `/api`, one after the other, so the two are compared on identical requests.
    public enum Target: String, Sendable, CaseIterable {
        case api, bridge, both

        var asksAPI: Bool { self != .bridge }
        var asksBridge: Bool { self != .api }
    }

    public var url: String
    public var bridgeURL: String
    public var target: Target
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
    public var maxBridgeP99: Duration
    /// Ask the bridge for every top tag's window once before measuring, so the run measures cached windows
    /// (a dashboard's steady state) rather than first fills.
    public var warmUp: Bool
    /// Credentials for the query service and the bridge, when they require keys.
    public var authorization: RequestAuthorization?

    public init(
        url: String, bridgeURL: String = "http://127.0.0.1:8083", target: Target = .api, clients: Int = 10,
        interval: Duration = .seconds(1), duration: Duration = .seconds(60), topTags: Int = 100,
        shortestWindow: Duration = .seconds(600), longestWindow: Duration = .seconds(86_400), seed: UInt64 = 2,
        maxP99: Duration = .milliseconds(100), maxLagP99: Duration = .seconds(2), maxBridgeP99: Duration = .milliseconds(2), warmUp: Bool = false,
        authorization: RequestAuthorization? = nil
    ) {
        self.authorization = authorization
        self.url = url
        self.bridgeURL = bridgeURL
        self.target = target
        self.clients = clients
        self.interval = interval
        self.duration = duration
        self.topTags = topTags
        self.shortestWindow = shortestWindow
        self.longestWindow = longestWindow
        self.seed = seed
        self.maxP99 = maxP99
        self.maxLagP99 = maxLagP99
        self.maxBridgeP99 = maxBridgeP99
        self.warmUp = warmUp
    }
}
