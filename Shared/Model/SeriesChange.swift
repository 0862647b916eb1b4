/// What one committed writer batch changed in one series: the record of the `sluice.changes` feed.
///
/// Caches (the bridge) recompute only what lies at or after `minTime`, so a backfilled measurement in the
/// middle of a window is seen as quickly as a new one at its end.
public struct SeriesChange: Sendable, Equatable {
    public var series: SeriesKey
    /// Earliest measurement time in the batch for this series, ns.
    public var minTime: Int64
    /// Latest measurement time in the batch for this series, ns.
    public var maxTime: Int64

    public init(series: SeriesKey, minTime: Int64, maxTime: Int64) {
        self.series = series
        self.minTime = minTime
        self.maxTime = maxTime
    }
}

/// The Kafka record format of the change feed.
///
/// Key: `domain/tag`, as for measurements, so changes to one series stay in order on one partition.
/// Value: version (1 byte) · min time (int64, little-endian) · max time (int64, little-endian).
public enum SeriesChangeCodec {
    public static let version: UInt8 = 1

    public static func key(for change: SeriesChange) -> [UInt8] {
        KafkaRecordCodec.key(for: change.series)
    }

    public static func value(for change: SeriesChange) -> [UInt8] {
        var bytes: [UInt8] = [version]
        bytes.reserveCapacity(17)
        for word in [UInt64(bitPattern: change.minTime), UInt64(bitPattern: change.maxTime)] {
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return bytes
    }

    public static func decode(key: [UInt8], value: [UInt8]) throws(KafkaRecordCodec.DecodingError) -> SeriesChange {
        let series = try KafkaRecordCodec.decodeKey(key)
        guard value.count == 17 else { throw .truncated(expected: 17, actual: value.count) }
        guard value[0] == version else { throw .badVersion(value[0]) }
        func word(at start: Int) -> Int64 {
            var bits: UInt64 = 0
            for index in (start..<start + 8).reversed() { bits = bits << 8 | UInt64(value[index]) }
            return Int64(bitPattern: bits)
        }
        return SeriesChange(series: series, minTime: word(at: 1), maxTime: word(at: 9))
    }
}
