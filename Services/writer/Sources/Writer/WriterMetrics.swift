import Metrics

/// The figures an operator watches on a writer.
struct WriterMetrics: Sendable {
    let batches = Counter(label: "sluice_writer_batches_total")
    let rowsWritten = Counter(label: "sluice_writer_rows_written_total")
    let duplicateRows = Counter(label: "sluice_writer_duplicate_rows_total")
    let rejectedRecords = Counter(label: "sluice_writer_rejected_records_total")
    let offsetErrors = Counter(label: "sluice_writer_offset_out_of_range_total")
    /// Messages Kafka dropped before the writer stored them (each also a row of `writer_data_loss`).
    let lostMessages = Counter(label: "sluice_writer_lost_messages_total")
    /// Stored positions moved because Kafka no longer held them, or they belonged to another cluster.
    let repositions = Counter(label: "sluice_writer_offset_resets_total")
    let retries = Counter(label: "sluice_writer_store_retries_total")
    /// Store attempts that outlasted SLUICE_WRITER_STORE_TIMEOUT_MS; their backends were terminated.
    let abandonedStores = Counter(label: "sluice_writer_abandoned_stores_total")
    let batchSize = Recorder(label: "sluice_writer_batch_size", aggregate: true)
    let storeDuration = Timer(label: "sluice_writer_store_duration_seconds")
    let consumerLag = Gauge(label: "sluice_writer_consumer_lag_messages")
    let assignedPartitions = Gauge(label: "sluice_writer_assigned_partitions")
}
