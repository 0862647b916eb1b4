import Metrics

/// The figures an operator watches on ingest.
struct IngestMetrics: Sendable {
    let accepted = Counter(label: "sluice_ingest_messages_accepted_total")
    let rejectedRequests = Counter(label: "sluice_ingest_requests_rejected_total")
    let unavailable = Counter(label: "sluice_ingest_requests_unavailable_total")
    let refusedForBacklog = Counter(label: "sluice_ingest_requests_refused_backlog_total")
    let refusedForMemory = Counter(label: "sluice_ingest_requests_refused_memory_total")
    let produceDuration = Timer(label: "sluice_ingest_produce_duration_seconds")
}
