/// How a producer run offers load.
public struct ProducerConfiguration: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case array, ndjson
    }

    public var url: String
    public var schedule: RateSchedule
    public var duration: Duration
    public var tags: Int
    public var valuesPerMessage: Int
    public var seed: UInt64
    /// Messages per request; 1 sends each message as a single JSON object, as seed 003's `wrk` test does.
    public var batchSize: Int
    public var format: Format
    /// Requests in flight at most (over keep-alive connections); past it the producer falls behind and says so.
    public var concurrency: Int
    /// Attempts per request when ingest answers 503 or the connection fails.
    public var maxAttempts: Int
    public var progressInterval: Duration
    /// Credentials for ingest, when it requires keys.
    public var authorization: RequestAuthorization?

    public init(
        url: String, schedule: RateSchedule, duration: Duration, tags: Int = 10_000, valuesPerMessage: Int = 10,
        seed: UInt64 = 1, batchSize: Int = 100, format: Format = .array, concurrency: Int = 64, maxAttempts: Int = 20,
        progressInterval: Duration = .seconds(5), authorization: RequestAuthorization? = nil
    ) {
        self.authorization = authorization
        self.url = url
        self.schedule = schedule
        self.duration = duration
        self.tags = tags
        self.valuesPerMessage = valuesPerMessage
        self.seed = seed
        self.batchSize = batchSize
        self.format = format
        self.concurrency = concurrency
        self.maxAttempts = maxAttempts
        self.progressInterval = progressInterval
    }
}
