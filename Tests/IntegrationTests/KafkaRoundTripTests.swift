import Logging
import SluiceKafka
import SluiceTestSupport
import Testing

@Suite(.timeLimit(.minutes(2)))
struct KafkaRoundTripTests {
    let logger = Logger(label: "kafka-test")

    @Test func everyAcknowledgedMessageIsConsumedInKeyOrder() async throws {
        let settings = try TestSettings.fromEnvironment()
        let broker = try await LocalBroker(settings: settings, topics: ["roundtrip": 4])
        defer { Task { await broker.stop() } }
        let configuration = KafkaConfiguration(bootstrapServers: broker.bootstrap)
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        let consumer = try KafkaConsumer(configuration: configuration, groupID: "roundtrip-test", logger: logger)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            let keys = ["alpha", "beta", "gamma", "delta", "epsilon"]
            var sent: [String: [String]] = [:]
            for batch in 0..<20 {
                let messages = keys.map { key in
                    OutgoingMessage(key: Array(key.utf8), value: Array("\(key)-\(batch)".utf8))
                }
                try await producer.send(messages, to: "roundtrip")
                for key in keys { sent[key, default: []].append("\(key)-\(batch)") }
            }
            producer.shutdown()
            try await group.waitForAll()

            try consumer.subscribe(to: ["roundtrip"])
            var received: [String: [String]] = [:]
            var count = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while count < 100, ContinuousClock.now < deadline {
                let poll = try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(200))
                for record in poll.records {
                    received[String(decoding: record.key, as: UTF8.self), default: []].append(String(decoding: record.value, as: UTF8.self))
                    count += 1
                }
                if case .assigned(let partitions) = poll.rebalance {
                    #expect(partitions.count == 4)
                    try await consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, StartOffset.beginning) }))
                }
            }
            await consumer.close()
            #expect(count == 100)
            #expect(received == sent)
        }
    }

    @Test func sendingToAnUnreachableBrokerFailsWithinTheDeliveryTimeout() async throws {
        let configuration = KafkaConfiguration(
            bootstrapServers: "127.0.0.1:\(freeLoopbackPort())",
            properties: ["message.timeout.ms": "500"]
        )
        let producer = try KafkaProducer(configuration: configuration, flushTimeout: .milliseconds(100), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            let started = ContinuousClock.now
            await #expect(throws: KafkaError.self) {
                try await producer.send([OutgoingMessage(key: [1], value: [2])], to: "nowhere")
            }
            #expect(ContinuousClock.now - started < .seconds(5))
            producer.shutdown()
            try await group.waitForAll()
        }
    }
}
