import Histogram

/// What a producer run did, updated by every request and read by the progress line and the summary.
public struct ProducerStatistics: Sendable {
    /// Messages the schedule asked for so far.
    public var due = 0
    /// Messages put into requests (less than `due` when the producer could not keep up).
    public var offered = 0
    public var accepted = 0
    public var rejected = 0
    /// Messages given up on after every attempt failed.
    public var failed = 0
    /// Request attempts repeated after a 503 or a connection error.
    public var retries = 0
    public var statuses: [Int: Int] = [:]
    public var requestLatency = LatencySummary.makeHistogram()
    public var ledger = Ledger()

    public var summaryLines: [String] {
        [
            "messages due \(due), offered \(offered), accepted \(accepted), rejected \(rejected), failed \(failed), retried requests \(retries)",
            "ingest request latency: \(LatencySummary(requestLatency).line)",
            "statuses: " + statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "),
        ]
    }
}
