import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SluiceAuth
import SluiceFormats
import SluiceModel
import SluiceRuntime
import Synchronization

/// Graphite's plaintext protocol over TCP (`SLUICE_GRAPHITE_PORT`), as collectd's `write_graphite` and
/// carbon relays send it: one `path value timestamp` line per metric (`Graphite`).
///
/// Each connection is read in turn: the lines of what was read are parsed and published to Kafka
/// through the same path as `/save`, at most `batchSize` at a time, and only then is more read, so a
/// writer behind or Kafka down stops reading (TCP pushes back on the agent) instead of piling lines up
/// in memory. A line that cannot be parsed is counted and logged and never stops the connection.
///
/// TCP has no acknowledgement: what a crash can lose is what ingest read but Kafka had not yet
/// acknowledged — at most one batch per connection — plus what sits in the kernel's socket buffers.
/// On SIGTERM ingest stops accepting, reads what connections send for `SLUICE_GRAPHITE_DRAIN_MS` more,
/// then stops reading, publishes what it read and closes them.
final class GraphiteListener: Service, Sendable {
    let settings: GraphiteSettings
    let publisher: MeasurementPublisher
    let retryAfter: Duration
    let logger: Logger
    let metrics = IngestMetrics()
    let wallClock: @Sendable () -> Int64 = { WallClock.nowNanoseconds() }
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])

    init(settings: GraphiteSettings, publisher: MeasurementPublisher, retryAfter: Duration, logger: Logger) {
        self.settings = settings
        self.publisher = publisher
        self.retryAfter = retryAfter
        self.logger = logger
    }

    func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: settings.host, port: settings.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel)
                }
            }
        // The port bound (the setting may be 0: any free port), for the log.
        let port = server.channel.localAddress?.port ?? settings.port
        logger.info("graphite plaintext listening", metadata: ["address": "\(settings.host):\(port)", "domain": "\(settings.domain)"])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { accepted in
                    for try await connection in accepted {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            // Stop accepting now; read what agents already sent for `drain` more, then stop reading each
            // connection: each publishes what it read and closes.
            server.channel.close(promise: nil)
            Task {
                try? await Task.sleep(for: self.settings.drain)
                for channel in self.connections.withLock({ Array($0.values) }) {
                    channel.close(mode: .input, promise: nil)
                }
            }
        }
        logger.info("graphite plaintext stopped")
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, Never>) async {
        let channel = connection.channel
        let id = ObjectIdentifier(channel)
        connections.withLock { $0[id] = channel }
        defer { _ = connections.withLock { $0.removeValue(forKey: id) } }
        let peer = channel.remoteAddress.map { "\($0)" } ?? "unknown"
        var lines = LineSplitter(maxLineBytes: settings.maxLineBytes)
        var refusals = 0
        do {
            try await connection.executeThenClose { inbound, _ in
                for try await chunk in inbound {
                    await take(lines.feed(chunk), peer: peer, refusals: &refusals)
                }
            }
        } catch {
            logger.debug("graphite connection ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
        await take(lines.finish(), peer: peer, refusals: &refusals)
    }

    /// Parses and publishes the lines of one read, `batchSize` at a time.
    private func take(_ pieces: [LineSplitter.Piece], peer: String, refusals: inout Int) async {
        var batch: [Measurement] = []
        let now = wallClock()
        for piece in pieces {
            switch piece {
            case .tooLong:
                refuse(
                    "a line is longer than SLUICE_GRAPHITE_MAX_LINE_BYTES (\(settings.maxLineBytes)); it was skipped", reason: .malformed, peer: peer,
                    refusals: &refusals)
            case .line(let bytes) where bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }):
                continue
            case .line(let bytes):
                let text = String(decoding: bytes, as: UTF8.self)
                switch Graphite.measurement(line: Substring(text), domain: settings.domain, now: now) {
                case .success(let measurement):
                    batch.append(measurement)
                    if batch.count >= settings.batchSize {
                        await publish(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                case .failure(let problem):
                    refuse("\(problem): \(text.prefix(200).debugDescription)", reason: .invalid, peer: peer, refusals: &refusals)
                }
            }
        }
        if !batch.isEmpty { await publish(batch) }
    }

    /// Logs the first few refusals of a connection at warning, the rest at debug: an agent sending
    /// garbage must not flood the log.
    private func refuse(_ message: String, reason: RejectionReason, peer: String, refusals: inout Int) {
        metrics.rejected(.graphite, reason).increment()
        refusals += 1
        let level: Logger.Level = refusals <= 5 ? .warning : .debug
        logger.log(level: level, "graphite line refused", metadata: ["peer": "\(peer)", "why": "\(message)"])
    }

    /// Publishes until Kafka acknowledges, waiting `retryAfter` between tries while the writer is behind
    /// or Kafka does not acknowledge. Reading waits meanwhile. After shutdown began, one try only: what it
    /// cannot publish is counted as lost.
    private func publish(_ batch: [Measurement]) async {
        while true {
            do {
                try publisher.refuseIfBehind()
                try await publisher.publish(batch, format: .graphite, access: .unrestricted, logger: logger)
                return
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled {
                    metrics.lostGraphiteLines.increment(by: batch.count)
                    logger.error("graphite lines lost at shutdown: Kafka did not take them", metadata: ["lines": "\(batch.count)", "error": "\(error)"])
                    return
                }
                logger.warning(
                    "graphite lines wait: the writer is behind or Kafka did not acknowledge", metadata: ["lines": "\(batch.count)", "error": "\(error)"])
                try? await Task.sleep(for: retryAfter)
            }
        }
    }
}
