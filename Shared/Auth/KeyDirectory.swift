import Crypto
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import SluiceSigning
import Synchronization

/// Every service's view of the keys: read from PostgreSQL at start and again every
/// `SLUICE_AUTH_REFRESH_MS`, so a revocation or rotation takes effect everywhere within that time
/// without a restart. A request naming a key id the list lacks has the list read again at once
/// (`lookupAfterReading`), so a key works on its first request after `sluice-admin keys create`.
///
/// While PostgreSQL cannot be read the last list stays in use (ingest keeps accepting during a database
/// outage, as it does without keys) and `sluice_auth_keys_age_seconds` grows; a revocation made then takes
/// effect once the list can be read again.
public final class KeyDirectory: Service, Sendable {
    /// A key as requests are checked against it.
    struct Entry: Sendable {
        var id: String
        var rights: Rights
        var isActive: Bool
        /// The secret as an HMAC key, for signed requests.
        var signingKey: SymmetricKey
        /// SHA-256 of the secret: bearer secrets are compared digest to digest (swift-crypto compares
        /// digests in constant time, and their lengths never differ).
        var secretDigest: SHA256Digest
    }

    enum Lookup {
        case notLoaded
        case unknown
        case found(Entry)
    }

    private let source: any KeySource
    private let master: MasterKey
    private let refreshInterval: Duration
    private let logger: Logger
    private let state = Mutex<[String: Entry]?>(nil)
    private let loadedAt = Mutex<ContinuousClock.Instant?>(nil)
    /// Keys issued under another master key that were logged already (once each).
    private let warnedForeignKeys = Mutex<Set<String>>([])
    private let onDemand = Mutex(OnDemandRead())
    /// Reads for unknown key ids start at most this often, so a stream of made-up ids costs PostgreSQL
    /// at most ten reads a second.
    static let onDemandGap: Duration = .milliseconds(100)
    /// How long a request for an unknown id waits for the keys while PostgreSQL does not answer.
    static let onDemandLimit: Duration = .seconds(1)

    private struct OnDemandRead {
        var running: Task<Void, Never>?
        var lastStarted: ContinuousClock.Instant?
    }
    private let keysGauge = Gauge(label: "sluice_auth_keys")
    private let ageGauge = Gauge(label: "sluice_auth_keys_age_seconds")

    public init(source: any KeySource, master: MasterKey, refreshInterval: Duration, logger: Logger) {
        self.source = source
        self.master = master
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    func lookup(_ id: String) -> Lookup {
        state.withLock { entries in
            guard let entries else { return .notLoaded }
            return entries[id].map(Lookup.found) ?? .unknown
        }
    }

    /// The entry for an id the last list lacked, after reading the list again: the key may have been
    /// made since. Every request that asks while a read is under way waits for that one read; reads start
    /// at most every `onDemandGap`, later askers waiting for the next.
    func lookupAfterReading(_ id: String) async -> Lookup {
        let read = onDemand.withLock { state -> Task<Void, Never> in
            if let running = state.running { return running }
            let start = state.lastStarted.map { max($0 + Self.onDemandGap, .now) } ?? .now
            state.lastStarted = start
            // Unstructured, so that a request that gives up does not cancel the read others wait for;
            // it ends after one read, or after `onDemandLimit` while PostgreSQL is away (the id stays unknown).
            let task = Task { [self] in
                try? await Task.sleep(until: start)
                let records = try? await withThrowingTaskGroup(of: [APIKeyRecord]?.self) { [source] group in
                    group.addTask { try await source.all() }
                    group.addTask {
                        try await Task.sleep(for: Self.onDemandLimit)
                        return nil
                    }
                    defer { group.cancelAll() }
                    return try await group.next() ?? nil
                }
                if let records { install(records) }
                onDemand.withLock { $0.running = nil }
            }
            state.running = task
            return task
        }
        await read.value
        return lookup(id)
    }

    public func run() async throws {
        var warnedStale = false
        var warnedMissingTable = false
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                // A read waiting for a connection to a database that is away must not hold up a stop.
                let records = try await cancelWhenGracefulShutdown { [source] in try await source.all() }
                install(records)
                warnedStale = false
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == PostgresError.Code.undefinedTable.raw {
                // The writer or query service has not created the schema yet: no keys exist.
                if !warnedMissingTable { logger.info("no api_keys table yet; no key is accepted until it exists") }
                warnedMissingTable = true
                install([])
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                if !warnedStale {
                    logger.warning("cannot read the keys from PostgreSQL; using the last list read", metadata: ["error": "\(String(reflecting: error))"])
                }
                warnedStale = true
            }
            if let loaded = loadedAt.withLock({ $0 }) {
                ageGauge.record((ContinuousClock.now - loaded).components.seconds)
            }
            try? await cancelWhenGracefulShutdown { [refreshInterval] in try await Task.sleep(for: refreshInterval) }
        }
    }

    func install(_ records: [APIKeyRecord]) {
        var entries: [String: Entry] = [:]
        for record in records {
            if record.masterFingerprint != master.fingerprint, record.isActive, warnedForeignKeys.withLock({ $0.insert(record.id).inserted }) {
                logger.error(
                    "key was issued under another master key and cannot authenticate; rotate it with this service's SLUICE_AUTH_MASTER_KEY",
                    metadata: ["key_id": "\(record.id)", "key_master": "\(record.masterFingerprint)", "this_master": "\(master.fingerprint)"]
                )
            }
            entries[record.id] = Self.entry(
                id: record.id, rights: record.rights, isActive: record.isActive, secret: master.secret(keyID: record.id, salt: record.salt))
        }
        let reader = master.internalReader
        entries[reader.keyID] = Self.entry(id: reader.keyID, rights: Self.readEverything, isActive: true, secret: reader.secret)
        keysGauge.record(records.count)
        state.withLock { $0 = entries }
        loadedAt.withLock { $0 = .now }
    }

    static func entry(id: String, rights: Rights, isActive: Bool, secret: String) -> Entry {
        Entry(
            id: id, rights: rights, isActive: isActive,
            signingKey: SymmetricKey(data: Array(secret.utf8)),
            secretDigest: SHA256.hash(data: Array(secret.utf8))
        )
    }

    static let readEverything: Rights = (try? Rights(entries: ["*:r"])) ?? Rights()
}
