import Foundation
import SluiceSigning

/// The real pipeline for one end-to-end test: a private broker and database, and ingest, writer,
/// query (and, when asked for, the bridge) as separate processes on free loopback ports.
public final class SluiceStack: @unchecked Sendable {
    public let database: TestDatabase
    public let broker: LocalBroker
    public let ingestURL: String
    public let queryURL: String
    public let writerURL: String
    /// Empty unless the stack was started with the bridge.
    public let bridgeURL: String
    public private(set) var ingest: ChildProcess
    public private(set) var writer: ChildProcess
    public private(set) var query: ChildProcess
    public private(set) var bridge: ChildProcess?
    public let environment: [String: String]
    private let writerPort: Int
    /// A key with rights `*:rw`, made before the services started; nil unless the stack requires keys.
    public let adminKey: KeyCredentials?

    /// The master key of stacks that require keys (a test value: 40 bytes of text).
    public static let testMasterKey = "test-master-key-0123456789-abcdefghijklm"

    public struct NotHealthy: Error, CustomStringConvertible {
        public var description: String
    }

    /// - Parameters:
    ///   - measurementPartitions: partitions of `sluice.measurements` on the private broker.
    ///   - requireKeys: run with `SLUICE_AUTH=required`, and make `adminKey` first.
    public init(
        database: TestDatabase, withBridge: Bool = false, measurementPartitions: Int = 8, requireKeys: Bool = false,
        extraEnvironment: [String: String] = [:]
    ) async throws {
        self.database = database
        broker = try await LocalBroker(settings: database.settings, topics: ["sluice.measurements": measurementPartitions, "sluice.changes": 2])
        let ingestPort = freeLoopbackPort()
        let queryPort = freeLoopbackPort()
        writerPort = freeLoopbackPort()
        ingestURL = "http://127.0.0.1:\(ingestPort)"
        queryURL = "http://127.0.0.1:\(queryPort)"
        writerURL = "http://127.0.0.1:\(writerPort)"
        let bridgePort = freeLoopbackPort()
        bridgeURL = withBridge ? "http://127.0.0.1:\(bridgePort)" : ""
        environment = database.serviceEnvironment.merging([
            "SLUICE_KAFKA_BOOTSTRAP": broker.bootstrap,
            "SLUICE_INGEST_PORT": String(ingestPort),
            "SLUICE_QUERY_PORT": String(queryPort),
            "SLUICE_WRITER_PORT": String(writerPort),
            "SLUICE_BRIDGE_PORT": String(bridgePort),
            "SLUICE_QUERY_URL": queryURL,
            "SLUICE_PG_PARTITIONS": "4",
            "SLUICE_LOG_LEVEL": "info",
            "SLUICE_AUTH": requireKeys ? "required" : "off",
            "SLUICE_AUTH_MASTER_KEY": requireKeys ? Self.testMasterKey : "",
        ]) { _, new in new }.merging(extraEnvironment) { _, new in new }
        let settings = database.settings
        adminKey = requireKeys ? try await Self.createKey(settings: settings, environment: environment, name: "test admin", rights: "*:rw") : nil
        writer = try ChildProcess("sluice-writer", settings: settings, environment: environment)
        query = try ChildProcess("sluice-query", settings: settings, environment: environment)
        ingest = try ChildProcess("sluice-ingest", settings: settings, environment: environment)
        try await Self.waitUntilHealthy(writer, url: writerURL)
        try await Self.waitUntilHealthy(query, url: queryURL)
        try await Self.waitUntilHealthy(ingest, url: ingestURL)
        try await waitForWriterAssignment()
        if withBridge {
            let bridge = try ChildProcess("sluice-bridge", settings: settings, environment: environment)
            self.bridge = bridge
            try await Self.waitUntilHealthy(bridge, url: bridgeURL)
            try await waitForBridgeFeed()
        }
    }

    /// Runs `sluice-admin` with the stack's environment.
    public static func admin(settings: TestSettings, environment: [String: String], _ arguments: [String]) async throws -> Program.Outcome {
        try await Program.run(settings.binDirectory.appendingPathComponent("sluice-admin"), arguments, environment: environment, within: .seconds(60))
    }

    public func admin(_ arguments: [String]) async throws -> Program.Outcome {
        try await Self.admin(settings: database.settings, environment: environment, arguments)
    }

    /// `sluice-admin keys create`, read back as credentials.
    public static func createKey(settings: TestSettings, environment: [String: String], name: String, rights: String) async throws -> KeyCredentials {
        let result = try await admin(settings: settings, environment: environment, ["keys", "create", "--name", name, "--rights", rights])
        return try Self.issuedKey(result)
    }

    public func createKey(name: String, rights: String) async throws -> KeyCredentials {
        try await Self.createKey(settings: database.settings, environment: environment, name: name, rights: rights)
    }

    /// Waits until ingest knows a key made after it started (services read keys every
    /// SLUICE_AUTH_REFRESH_MS): an empty `/save` is then refused for its body (400), not its key (401).
    public func waitUntilIngestKnows(_ key: KeyCredentials, within limit: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let reply = try await HTTP.send("POST", ingestURL + "/save", body: Data("[]".utf8), credentials: .bearer(key))
            if reply.status == 400 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw NotHealthy(description: "ingest did not learn key \(key.keyID) within \(limit)")
    }

    /// The credentials in `keys create` or `keys rotate` output.
    public static func issuedKey(_ result: Program.Outcome) throws -> KeyCredentials {
        guard result.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any],
            let id = object["key_id"] as? String, let secret = object["secret"] as? String
        else { throw NotHealthy(description: "sluice-admin did not issue a key (status \(result.status)): \(result.output) \(result.errors)") }
        return KeyCredentials(keyID: id, secret: secret)
    }

    /// Waits until the bridge reads the change feed, so that what it caches is refreshed on every commit.
    public func waitForBridgeFeed(within limit: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let reading = try? await HTTP.metric(bridgeURL, "sluice_bridge_change_feed_reading"), reading == 1 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw NotHealthy(description: "the bridge did not read the change feed within \(limit):\n\(bridge?.logTail() ?? "")")
    }

    /// Starts a new query process with the same configuration, after the old one was stopped.
    public func restartQuery() async throws {
        query = try ChildProcess("sluice-query", settings: database.settings, environment: environment)
        try await Self.waitUntilHealthy(query, url: queryURL)
    }

    /// Starts a new writer process with the same configuration, after the old one died or stopped.
    /// - Parameter waitForHealth: false to wait only until it answers `/health`, healthy or not (a writer
    ///   that finds lost data reports it there at once).
    public func restartWriter(waitForHealth: Bool = true) async throws {
        writer = try ChildProcess("sluice-writer", settings: database.settings, environment: environment)
        try await Self.waitUntilHealthy(writer, url: writerURL, acceptingAnyAnswer: !waitForHealth)
    }

    /// Waits until the writer has joined its consumer group and holds partitions (it reports them in /metrics).
    public func waitForWriterAssignment(within limit: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let count = try? await HTTP.metric(writerURL, "sluice_writer_assigned_partitions"), count > 0 { return }
            guard writer.isRunning else { throw NotHealthy(description: "the writer exited:\n\(writer.logTail())") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw NotHealthy(description: "the writer held no partitions within \(limit):\n\(writer.logTail())")
    }

    /// Stops everything with SIGTERM.
    /// - Returns: the exit status of each service, by name (0 means a graceful shutdown).
    @discardableResult
    public func stop() async -> [String: Int32] {
        var statuses: [String: Int32] = [:]
        if let bridge { statuses["bridge"] = await bridge.terminate() }
        statuses["ingest"] = await ingest.terminate()
        statuses["query"] = await query.terminate()
        statuses["writer"] = await writer.terminate()
        await broker.stop()
        return statuses
    }

    /// The last log lines of every service, for a failure message.
    public var logs: String {
        ([ingest, writer, query] + (bridge.map { [$0] } ?? [])).map { "--- \($0.name)\n\($0.logTail())" }.joined(separator: "\n")
    }

    static func waitUntilHealthy(_ child: ChildProcess, url: String, acceptingAnyAnswer: Bool = false) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let reply = try? await HTTP.get(url + "/health"), reply.status == 200 || (acceptingAnyAnswer && reply.status > 0) { return }
            guard child.isRunning else { throw NotHealthy(description: "\(child.name) exited:\n\(child.logTail())") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw NotHealthy(description: "\(child.name) was not healthy within 60 s:\n\(child.logTail())")
    }
}
