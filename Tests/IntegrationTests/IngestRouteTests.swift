import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingest
import Logging
import PostgresNIO
import Prometheus
import SluiceKafka
import SluiceModel
import SluiceRuntime
import SluiceStorage
import SluiceTestSupport
import Testing

@testable import SluiceAuth

/// Ingest's routes, auth answers and JSON errors, driven in-process with `app.test(.router)`: the
/// application the process runs, publishing to a private local broker, with a real PostgreSQL behind its
/// backlog check. What is acknowledged is read back from Kafka. What needs processes (signals, crashes,
/// the agents' own clients) stays in EndToEndTests.
@Suite(.timeLimit(.minutes(1)))
struct IngestRouteTests {
    static let topic = "sluice.measurements"

    /// Key WRITER may write `acme` only.
    static let keys = RouteTestKeys.keys(["WRITER": "acme:w"])
    static let bearer: HTTPFields = {
        var fields = RouteTestKeys.bearer("WRITER")
        fields[.contentType] = "application/json"
        return fields
    }()

    /// Runs `body` against the ingest application with keys required; `consumer` reads what it published.
    func withIngest(_ body: @Sendable (any TestClientProtocol, KafkaConsumer) async throws -> Void) async throws {
        let settings = try TestSettings.fromEnvironment()
        let broker = try await LocalBroker(settings: settings, topics: [Self.topic: 1])
        defer { Task { await broker.stop() } }
        let logger = Logger(label: "ingest-route-test")
        try await TestDatabase.with { database, postgres in
            try await SchemaMigrator(partitionCount: 2).migrate(postgres, logger: logger)
            var environment = database.serviceEnvironment
            environment["SLUICE_KAFKA_BOOTSTRAP"] = broker.bootstrap
            var configuration = try IngestConfiguration.fromEnvironment(EnvironmentReader(environment))
            configuration.auth = RouteTestKeys.required
            let app = try buildIngestApplication(configuration: configuration, registry: PrometheusCollectorRegistry(), keys: Self.keys, logger: logger)
            let consumer = try KafkaConsumer(
                configuration: KafkaConfiguration(bootstrapServers: broker.bootstrap), groupID: "ingest-route-test", logger: logger)
            try await consumer.assign([TopicPartition(topic: Self.topic, partition: 0): .beginning])
            try await app.test(.router) { client in
                // The directory reads its keys as the application starts; a request before that is told to wait.
                try await RouteTestKeys.waitForKeys {
                    try await client.execute(uri: "/save", method: .post, headers: Self.bearer, body: ByteBuffer(string: "[]"))
                }
                try await body(client, consumer)
            }
            await consumer.close()
        }
    }

    /// The next `count` measurements on the topic, decoded (fewer if they do not come `within`).
    static func published(_ consumer: KafkaConsumer, count: Int, within: Duration = .seconds(20)) async throws -> [SluiceModel.Measurement] {
        var measurements: [SluiceModel.Measurement] = []
        let deadline = ContinuousClock.now + within
        while measurements.count < count, ContinuousClock.now < deadline {
            for record in try await consumer.poll(maxRecords: count - measurements.count, timeout: .milliseconds(100)).records {
                let key = try KafkaRecordCodec.decodeKey(record.key)
                let (time, values) = try record.value.withUnsafeBytes { try KafkaRecordCodec.decodeValue($0) }
                measurements.append(SluiceModel.Measurement(domain: key.domain, tag: key.tag, time: time, values: values))
            }
        }
        return measurements
    }

    @Test func acceptedMeasurementsReachKafkaAndRefusalsAreJSON() async throws {
        try await withIngest { client, consumer in
            let saved = try await client.execute(
                uri: "/save", method: .post, headers: Self.bearer,
                body: ByteBuffer(
                    string: #"[{"tag":"cpu","domain":"acme","time":1000,"values":[1.5,2]},{"tag":"mem","domain":"acme","time":2000,"values":[-3]}]"#
                )
            )
            #expect(saved.status == .accepted, "\(String(buffer: saved.body))")
            #expect(String(buffer: saved.body) == #"{"accepted":2}"#)
            var influxHeaders = Self.bearer
            influxHeaders[.contentType] = "text/plain"
            let influx = try await client.execute(
                uri: "/write?db=acme&precision=ns", method: .post, headers: influxHeaders, body: ByteBuffer(string: "disk,host=a used=7 3000\n")
            )
            #expect(influx.status == .noContent, "\(String(buffer: influx.body))")
            let published = try await Self.published(consumer, count: 3).sorted { $0.time < $1.time }
            #expect(published.map(\.domain) == ["acme", "acme", "acme"])
            #expect(published.map(\.tag) == ["cpu", "mem", #"disk.used{host="a"}"#])
            #expect(published.map(\.time) == [1000, 2000, 3000])
            #expect(published.map(\.values) == [[1.5, 2], [-3], [7]])

            let anonymous = try await client.execute(uri: "/save", method: .post, body: ByteBuffer(string: #"[{"tag":"cpu","time":1,"values":[1]}]"#))
            #expect(anonymous.status == .unauthorized)
            let elsewhere = try await client.execute(
                uri: "/save", method: .post, headers: Self.bearer, body: ByteBuffer(string: #"[{"tag":"cpu","domain":"other","time":1,"values":[1]}]"#)
            )
            #expect(elsewhere.status == .forbidden)
            #expect(try RouteErrorBody(elsewhere).forbidden_domains == ["other"])
            let malformed = try await client.execute(uri: "/save", method: .post, headers: Self.bearer, body: ByteBuffer(string: #"[{"tag":"cpu"}]"#))
            #expect(malformed.status == .badRequest)
            #expect(try RouteErrorBody(malformed).error.isEmpty == false)
            let ping = try await client.execute(uri: "/ping", method: .get)
            #expect(ping.status == .noContent)
            // Nothing refused reached Kafka.
            #expect(try await Self.published(consumer, count: 1, within: .milliseconds(500)).isEmpty)
        }
    }
}
