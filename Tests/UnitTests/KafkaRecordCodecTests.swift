import SluiceModel
import Testing

@Suite struct KafkaRecordCodecTests {
    @Test func roundTripKeepsEveryBit() throws {
        let measurement = Measurement(
            domain: "ops", tag: "disk/sda1 ü", time: 1_700_000_000_123_456_789,
            values: [0, -0.0, Double.leastNormalMagnitude / 4, .greatestFiniteMagnitude, -3.25])
        let key = KafkaRecordCodec.key(for: SeriesKey(domain: measurement.domain, tag: measurement.tag))
        let value = KafkaRecordCodec.value(for: measurement)
        #expect(value.count == 10 + 8 * 5)
        let series = try KafkaRecordCodec.decodeKey(key)
        #expect(series == SeriesKey(domain: "ops", tag: "disk/sda1 ü"))
        let decoded = try value.withUnsafeBytes { try KafkaRecordCodec.decodeValue($0) }
        #expect(decoded.time == measurement.time)
        #expect(decoded.values.map(\.bitPattern) == measurement.values.map(\.bitPattern))
    }

    @Test func damagedValuesAreRefused() {
        let good = KafkaRecordCodec.value(for: Measurement(tag: "a", time: 1, values: [1, 2]))
        #expect(throws: KafkaRecordCodec.DecodingError.truncated(expected: 26, actual: 25)) {
            try Array(good.dropLast()).withUnsafeBytes { try KafkaRecordCodec.decodeValue($0) }
        }
        var wrongVersion = good
        wrongVersion[0] = 9
        #expect(throws: KafkaRecordCodec.DecodingError.badVersion(9)) {
            try wrongVersion.withUnsafeBytes { try KafkaRecordCodec.decodeValue($0) }
        }
        #expect(throws: KafkaRecordCodec.DecodingError.missingSeparator) { try KafkaRecordCodec.decodeKey(Array("nodomain".utf8)) }
    }
}
