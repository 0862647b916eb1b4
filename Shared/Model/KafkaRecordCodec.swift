/// The Kafka record format between ingest and writer.
///
/// Key: `domain/tag` in UTF-8, so every message of a series lands in one partition, in order.
/// Value: a compact binary layout the writer reads without parsing JSON:
/// version (1 byte) · time (int64, little-endian) · count (1 byte) · count × float64 (little-endian bits).
public enum KafkaRecordCodec {
    public static let version: UInt8 = 1

    public enum DecodingError: Error, Equatable, CustomStringConvertible {
        case missingSeparator
        case badVersion(UInt8)
        case truncated(expected: Int, actual: Int)
        case invalidUTF8

        public var description: String {
            switch self {
            case .missingSeparator: "the record key has no '/' between domain and tag"
            case .badVersion(let version): "the record value has unknown format version \(version)"
            case .truncated(let expected, let actual): "the record value is \(actual) bytes; expected \(expected)"
            case .invalidUTF8: "the record key is not valid UTF-8"
            }
        }
    }

    public static func key(for series: SeriesKey) -> [UInt8] {
        Array("\(series.domain)/\(series.tag)".utf8)
    }

    public static func value(for measurement: Measurement) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(10 + 8 * measurement.values.count)
        bytes.append(version)
        appendLittleEndian(UInt64(bitPattern: measurement.time), to: &bytes)
        bytes.append(UInt8(measurement.values.count))
        for value in measurement.values {
            appendLittleEndian(value.bitPattern, to: &bytes)
        }
        return bytes
    }

    /// Takes the key's own array, not any collection of bytes: a generic decoder is not specialized
    /// across modules, and the writer's ran on runtime metadata lookups for a fifth of its CPU.
    public static func decodeKey(_ key: [UInt8]) throws(DecodingError) -> SeriesKey {
        guard let slash = key.firstIndex(of: UInt8(ascii: "/")) else { throw .missingSeparator }
        guard let domain = String(validating: key[..<slash], as: UTF8.self),
            let tag = String(validating: key[key.index(after: slash)...], as: UTF8.self)
        else { throw .invalidUTF8 }
        return SeriesKey(domain: domain, tag: tag)
    }

    public static func decodeValue(_ value: UnsafeRawBufferPointer) throws(DecodingError) -> (time: Int64, values: [Double]) {
        guard value.count >= 10 else { throw .truncated(expected: 10, actual: value.count) }
        guard value[0] == version else { throw .badVersion(value[0]) }
        let time = Int64(bitPattern: UInt64(littleEndian: value.loadUnaligned(fromByteOffset: 1, as: UInt64.self)))
        let count = Int(value[9])
        let expected = 10 + 8 * count
        guard value.count == expected else { throw .truncated(expected: expected, actual: value.count) }
        let values = (0..<count).map { index in
            Double(bitPattern: UInt64(littleEndian: value.loadUnaligned(fromByteOffset: 10 + 8 * index, as: UInt64.self)))
        }
        return (time, values)
    }

    private static func appendLittleEndian(_ word: UInt64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
