import SluiceKafka
import SluiceModel

/// Records consumed since the last commit, decoded and ready to store, with the offsets they cover.
struct PendingBatch {
    private(set) var measurements: [Measurement] = []
    /// Per partition, the offset after the last record taken (valid or not): where to resume.
    private(set) var nextOffsets: [TopicPartition: Int64] = [:]
    /// Records that are not Sluice measurements, kept whole for `writer_rejected_records`.
    private(set) var rejected: [RejectedRecord] = []
    /// Measurements older than raw retention: their day's partition may be gone and their minute's raw rows
    /// with it, so they are neither stored nor folded. Kept whole beside `rejected` in
    /// `writer_rejected_records`, but counted apart: they are valid, only too old.
    private(set) var expired: [RejectedRecord] = []
    private(set) var startedAt: ContinuousClock.Instant?

    var isEmpty: Bool { nextOffsets.isEmpty }
    var count: Int { measurements.count }

    /// Takes a record: decodes it, or keeps it as rejected (or expired, when older than `rawFloor`) so
    /// that its offset still moves on.
    mutating func add(_ record: KafkaRecord, now: ContinuousClock.Instant, rawFloor: Int64? = nil) {
        if startedAt == nil { startedAt = now }
        let next = record.offset + 1
        if next > nextOffsets[record.topicPartition, default: Int64.min] {
            nextOffsets[record.topicPartition] = next
        }
        do {
            let measurement = try Self.decode(record)
            if let rawFloor, measurement.time < rawFloor {
                expired.append(RejectedRecord(record: record, reason: "older than raw retention: the oldest time kept is \(rawFloor)"))
            } else {
                measurements.append(measurement)
            }
        } catch {
            rejected.append(RejectedRecord(record: record, reason: "\(error)"))
        }
    }

    static func decode(_ record: KafkaRecord) throws -> Measurement {
        let series = try KafkaRecordCodec.decodeKey(record.key)
        let (time, values) = try record.value.withUnsafeBytes { try KafkaRecordCodec.decodeValue($0) }
        let measurement = Measurement(domain: series.domain, tag: series.tag, time: time, values: values)
        if let problem = MeasurementLimits.problem(withDomain: measurement.domain)
            ?? MeasurementLimits.problem(withTag: measurement.tag)
            ?? MeasurementLimits.problem(withTime: measurement.time)
            ?? MeasurementLimits.problem(withValues: measurement.values)
        {
            throw InvalidRecord(reason: problem)
        }
        return measurement
    }

    struct InvalidRecord: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }
}
