import CRdKafka

/// librdkafka properties for one client: the bootstrap servers plus any other property by its librdkafka name.
public struct KafkaConfiguration: Sendable {
    public var bootstrapServers: String
    /// Extra librdkafka properties (`linger.ms`, `message.timeout.ms`, …); they override Sluice's defaults.
    public var properties: [String: String]

    public init(bootstrapServers: String, properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
    }

    /// What every Sluice client sets, under its own defaults and the explicit properties.
    ///
    /// `socket.nagle.disable`: librdkafka leaves Nagle's algorithm on by default, so a small request sent
    /// while an earlier one is unacknowledged can wait for the broker's delayed ACK (tens of ms); Kafka's
    /// own Java clients and brokers always set TCP_NODELAY. Every Sluice request is latency-bound.
    static let clientDefaults = ["socket.nagle.disable": "true"]

    /// Builds a `rd_kafka_conf_t`, failing with the name of the property librdkafka refused.
    func makeNativeConfiguration(defaults: [String: String]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError("could not allocate a configuration") }
        var merged = Self.clientDefaults.merging(defaults) { _, own in own }.merging(properties) { _, explicit in explicit }
        merged["bootstrap.servers"] = bootstrapServers
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in merged.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, name, value, &errorText, errorText.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                throw KafkaError("property \(name)=\(value) was refused: \(text(ofErrorBuffer: errorText))")
            }
        }
        return conf
    }
}

/// An opaque librdkafka handle that may cross threads; librdkafka's handles are thread-safe.
struct SendablePointer: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Creates a client handle, taking ownership of `conf` whether or not it succeeds.
func makeNativeClient(type: rd_kafka_type_t, conf: OpaquePointer) throws(KafkaError) -> OpaquePointer {
    var errorText = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
        rd_kafka_conf_destroy(conf)
        throw KafkaError("could not create the client: \(text(ofErrorBuffer: errorText))")
    }
    return handle
}

/// Reads the NUL-terminated text librdkafka wrote into an error buffer.
func text(ofErrorBuffer buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
