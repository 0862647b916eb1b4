import Metrics

/// The figures an operator watches on ingest.
struct IngestMetrics: Sendable {
    let unavailable = Counter(label: "sluice_ingest_requests_unavailable_total")
    let refusedForBacklog = Counter(label: "sluice_ingest_requests_refused_backlog_total")
    let refusedForMemory = Counter(label: "sluice_ingest_requests_refused_memory_total")
    let produceDuration = Timer(label: "sluice_ingest_produce_duration_seconds")
    /// Graphite lines read but never acknowledged by Kafka, because ingest was shutting down.
    let lostGraphiteLines = Counter(label: "sluice_ingest_graphite_lines_lost_total")

    /// Messages Kafka acknowledged, by the format they arrived in.
    func accepted(_ format: IngestFormat) -> Counter {
        Counter(label: "sluice_ingest_messages_accepted_total", dimensions: [("format", format.rawValue)])
    }

    /// Points left out of an accepted request (remote write: NaN, staleness markers, series Sluice
    /// refuses), by format and reason.
    func skipped(_ format: IngestFormat, _ reason: String) -> Counter {
        Counter(label: "sluice_ingest_points_skipped_total", dimensions: [("format", format.rawValue), ("reason", reason)])
    }

    /// Requests (Graphite: lines) refused for what they held, by format and reason.
    func rejected(_ format: IngestFormat, _ reason: RejectionReason) -> Counter {
        Counter(label: "sluice_ingest_requests_rejected_total", dimensions: [("format", format.rawValue), ("reason", reason.rawValue)])
    }
}

/// The write formats ingest speaks: the `format` of its metrics.
enum IngestFormat: String, Sendable {
    case json, kairosdb, influx, prometheus, graphite, flux
}

/// Why a write was refused, for `sluice_ingest_requests_rejected_total{reason}`.
enum RejectionReason: String, Sendable {
    /// The body could not be read at all (syntax, protobuf, compression).
    case malformed
    /// Read, but a point breaks a rule (limits, a string field, a time out of range).
    case invalid
    /// Query parameters or headers the format needs are missing or wrong.
    case parameters
}
