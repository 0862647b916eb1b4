import Hummingbird
import Logging
import NIOCore
import SluiceAuth
import SluiceKafka
import SluiceModel
import SluiceRuntime

/// Publishes validated measurements to Kafka for every write format: checks the writer's backlog and the
/// key's write rights, and returns only once Kafka acknowledged every message. So `/save` and the agent
/// formats share backpressure, tenancy and exactly-once alike.
struct MeasurementPublisher: Sendable {
    let producer: KafkaProducer
    let backlog: BacklogMonitor
    let configuration: IngestConfiguration
    let metrics = IngestMetrics()

    /// Refuses (503) while the writer is too far behind; called before a body is read.
    func refuseIfBehind() throws {
        if let behind = backlog.refusal {
            metrics.refusedForBacklog.increment()
            throw SaveRoute.backlogError(behind, configuration: configuration)
        }
    }

    /// Publishes a whole request's measurements.
    /// - Throws: 403 when the key cannot write one of their domains (nothing is sent), 503 when Kafka did
    ///   not acknowledge them all.
    func publish(_ measurements: [Measurement], format: IngestFormat, context: SluiceRequestContext) async throws {
        try await publish(measurements, format: format, access: context.access, logger: context.logger)
    }

    /// Publishes measurements that arrived other than by HTTP (Graphite's TCP lines), with `access`
    /// standing for the sender.
    func publish(_ measurements: [Measurement], format: IngestFormat, access: Access, logger: Logger) async throws {
        // A request is authorised whole: one message for a domain the key cannot write refuses them all.
        try access.require(.write, domains: Set(measurements.map(\.domain)))
        let messages = measurements.map { measurement in
            OutgoingMessage(
                key: KafkaRecordCodec.key(for: SeriesKey(domain: measurement.domain, tag: measurement.tag)),
                value: KafkaRecordCodec.value(for: measurement)
            )
        }
        let started = ContinuousClock.now
        do {
            try await producer.send(messages, to: configuration.topic)
        } catch {
            metrics.unavailable.increment()
            logger.warning("Kafka did not take a request", metadata: ["messages": "\(messages.count)", "error": "\(error)"])
            throw SaveRoute.unacknowledgedError(configuration: configuration)
        }
        metrics.produceDuration.recordNanoseconds((ContinuousClock.now - started).wholeNanoseconds)
        metrics.accepted(format).increment(by: messages.count)
    }
}
