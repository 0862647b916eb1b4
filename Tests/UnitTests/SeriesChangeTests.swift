import SluiceModel
import Testing

@Suite struct SeriesChangeTests {
    @Test func recordsRoundTripAndDamageIsRefused() throws {
        let change = SeriesChange(series: SeriesKey(domain: "ops", tag: "cpu/0"), minTime: -1_234_567_890_123, maxTime: Int64.max)
        let key = SeriesChangeCodec.key(for: change)
        let value = SeriesChangeCodec.value(for: change)
        #expect(value.count == 17)
        #expect(try SeriesChangeCodec.decode(key: key, value: value) == change)
        #expect(throws: KafkaRecordCodec.DecodingError.truncated(expected: 17, actual: 16)) {
            try SeriesChangeCodec.decode(key: key, value: Array(value.dropLast()))
        }
        var future = value
        future[0] = 2
        #expect(throws: KafkaRecordCodec.DecodingError.badVersion(2)) { try SeriesChangeCodec.decode(key: key, value: future) }
    }
}
