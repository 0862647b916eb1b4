import SluiceModel
import Testing

@Suite struct SeriesChangeTests {
    @Test func summaryHasOneSpanPerSeriesInFirstSeenOrder() {
        let batch = [
            Measurement(tag: "b", time: 50, values: [1]),
            Measurement(tag: "a", time: 7, values: [1]),
            Measurement(domain: "ops", tag: "b", time: 3, values: [1]),
            Measurement(tag: "b", time: -20, values: [1]),
            Measurement(tag: "b", time: 90, values: [1]),
        ]
        #expect(SeriesChange.summarising(batch) == [
            SeriesChange(series: SeriesKey(domain: Measurement.defaultDomain, tag: "b"), minTime: -20, maxTime: 90),
            SeriesChange(series: SeriesKey(domain: Measurement.defaultDomain, tag: "a"), minTime: 7, maxTime: 7),
            SeriesChange(series: SeriesKey(domain: "ops", tag: "b"), minTime: 3, maxTime: 3),
        ])
        #expect(SeriesChange.summarising([]).isEmpty)
    }

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
