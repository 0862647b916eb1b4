import Bridge
import Ingest
import Query
import SluiceRuntime
import SluiceStorage
import Testing
import Writer

@Suite struct ConfigurationTests {
    @Test func defaultsWorkLocally() throws {
        let empty = EnvironmentReader([:])
        let writer = try WriterConfiguration.fromEnvironment(empty)
        #expect(writer.kafka.bootstrapServers == "127.0.0.1:9092")
        #expect(writer.topic == "sluice.measurements")
        #expect(writer.flushInterval == .milliseconds(10))
        #expect(writer.kafka.properties["fetch.wait.max.ms"] == "10")
        #expect(writer.postgres == PostgresSettings(host: "127.0.0.1", port: 5432, user: "sluice", password: nil, database: "sluice", maxConnections: 8))
        #expect(writer.http == ServiceAddress(host: "127.0.0.1", port: 8082))
        let ingest = try IngestConfiguration.fromEnvironment(empty)
        #expect(ingest.http.port == 8080)
        #expect(ingest.maxBodyBytes == 16 << 20)
        #expect(ingest.kafka.properties["message.timeout.ms"] == "5000")
        #expect(ingest.maxPartitionBacklog == 20_000)
        #expect(ingest.backlogCheckInterval == .milliseconds(250))
        #expect(ingest.writerGroup == writer.consumerGroup)
        #expect(ingest.postgres.maxConnections == 2)
        #expect(writer.dataLossAlert == .seconds(900))
        let query = try QueryConfiguration.fromEnvironment(empty)
        #expect(query.http.port == 8081)
        #expect(query.minimumWindowNanoseconds == 600_000_000_000)
        #expect(query.statementTimeout == .seconds(5))
        #expect(query.maxInFlight == 64)
        #expect(try QueryConfiguration.fromEnvironment(EnvironmentReader(["SLUICE_QUERY_STATEMENT_TIMEOUT_MS": "0"])).statementTimeout == nil)
    }

    @Test func settingsSeveralServicesReadAreReadAlike() throws {
        let environment = EnvironmentReader([
            "SLUICE_KAFKA_BOOTSTRAP": "k:1", "SLUICE_MEASUREMENTS_TOPIC": "m", "SLUICE_CHANGES_TOPIC": "c",
            "SLUICE_WRITER_GROUP": "g", "SLUICE_KAFKA_FETCH_WAIT_MS": "7", "SLUICE_PG_PARTITIONS": "3", "SLUICE_QUERY_MIN_WINDOW_MS": "1000",
        ])
        let (ingest, writer) = (try IngestConfiguration.fromEnvironment(environment), try WriterConfiguration.fromEnvironment(environment))
        let (query, bridge) = (try QueryConfiguration.fromEnvironment(environment), try BridgeConfiguration.fromEnvironment(environment))
        #expect([ingest.kafka.bootstrapServers, writer.kafka.bootstrapServers, bridge.kafka.bootstrapServers] == ["k:1", "k:1", "k:1"])
        #expect(ingest.topic == "m" && writer.topic == "m")
        #expect(writer.changesTopic == "c" && bridge.changesTopic == "c")
        #expect(ingest.writerGroup == "g" && writer.consumerGroup == "g")
        #expect(writer.kafka.properties["fetch.wait.max.ms"] == "7" && bridge.kafka.properties["fetch.wait.max.ms"] == "7")
        #expect(writer.partitionCount == 3 && query.partitionCount == 3)
        #expect(query.minimumWindowNanoseconds == 1_000_000_000 && bridge.queryMinimumWindowMilliseconds == 1000)
    }

    @Test func anInFlightLimitTurnsAwayWhatIsPastIt() async {
        let limit = InFlightLimit(limit: 1)
        let nested = await limit.run { await limit.run { 2 } }
        #expect(nested == .some(nil))
        #expect(await limit.run { 3 } == 3)
        #expect(limit.current == 0)
    }

    @Test func variablesOverrideDefaults() throws {
        let environment = EnvironmentReader([
            "SLUICE_BIND_HOST": "0.0.0.0", "SLUICE_WRITER_PORT": "9000", "SLUICE_WRITER_BATCH_SIZE": "500",
            "SLUICE_WRITER_FLUSH_MS": "50", "SLUICE_PG_PASSWORD": "secret", "SLUICE_KAFKA_BOOTSTRAP": "kafka:9092",
        ])
        let writer = try WriterConfiguration.fromEnvironment(environment)
        #expect(writer.http == ServiceAddress(host: "0.0.0.0", port: 9000))
        #expect(writer.batchSize == 500)
        #expect(writer.flushInterval == .milliseconds(50))
        #expect(writer.postgres.password == "secret")
        #expect(writer.kafka.bootstrapServers == "kafka:9092")
    }

    @Test(arguments: [
        ("SLUICE_WRITER_FLUSH_MS", "300", "outside 1…250"),
        ("SLUICE_WRITER_BATCH_SIZE", "lots", "not a whole number"),
        ("SLUICE_PG_PORT", "70000", "outside 0…65535"),
        ("SLUICE_PG_PARTITIONS", "0", "outside 1…1024"),
    ])
    func badValuesNameTheVariable(variable: String, value: String, reason: String) {
        do {
            _ = try WriterConfiguration.fromEnvironment(EnvironmentReader([variable: value]))
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            #expect(error.variable == variable)
            #expect(error.description.contains(reason))
        }
    }
}
