import Logging
import PostgresNIO
import ServiceLifecycle

/// Creates and upgrades Sluice's PostgreSQL schema at service start-up.
///
/// Migrations are numbered and applied in order, each in the same transaction as the record of it,
/// under a transaction-level advisory lock so that several copies starting at once apply each exactly once.
public struct SchemaMigrator: Sendable {
    /// Arbitrary but fixed: the advisory lock every Sluice process takes to migrate.
    static let advisoryLockKey: Int64 = 0x5_1_0_1_C_E

    /// Number of hash partitions of `measurements` when the schema is first created.
    public var partitionCount: Int

    public init(partitionCount: Int) {
        precondition((1...1024).contains(partitionCount), "partition count must be 1–1024")
        self.partitionCount = partitionCount
    }

    /// Applies every migration the database lacks.
    /// - Returns: the versions applied by this call (empty when the schema was current).
    @discardableResult
    public func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("select pg_advisory_xact_lock(\(Self.advisoryLockKey))", logger: logger)
            try await connection.query(
                "create table if not exists sluice_schema_migrations (version int primary key, applied_at timestamptz not null default now())",
                logger: logger
            )
            var current = 0
            for try await version in try await connection.query("select coalesce(max(version), 0) from sluice_schema_migrations", logger: logger)
                .decode(Int.self)
            {
                current = version
            }
            var applied: [Int] = []
            for migration in Self.migrations(partitionCount: partitionCount) where migration.version > current {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("insert into sluice_schema_migrations (version) values (\(migration.version))", logger: logger)
                logger.info("applied schema migration", metadata: ["version": "\(migration.version)", "what": "\(migration.summary)"])
                applied.append(migration.version)
            }
            return applied
        }
    }

    struct Migration {
        var version: Int
        var summary: String
        var statements: [String]
    }

    static func migrations(partitionCount: Int) -> [Migration] {
        [
            Migration(
                version: 1,
                summary: "series, hash-partitioned measurements, writer offsets",
                statements: [
                    """
                    create table series (
                        id bigint generated always as identity primary key,
                        domain text not null,
                        tag text not null,
                        created_at timestamptz not null default now(),
                        unique (domain, tag)
                    )
                    """,
                    """
                    create table measurements (
                        series_id bigint not null,
                        ts bigint not null,
                        vals float8[] not null,
                        primary key (series_id, ts)
                    ) partition by hash (series_id)
                    """,
                ] + (0..<partitionCount).map { remainder in
                    "create table measurements_p\(zeroPadded(remainder)) partition of measurements for values with (modulus \(partitionCount), remainder \(remainder))"
                } + [
                    """
                    create table writer_offsets (
                        consumer_group text not null,
                        topic text not null,
                        partition int not null,
                        next_offset bigint not null,
                        updated_at timestamptz not null default now(),
                        primary key (consumer_group, topic, partition)
                    )
                    """,
                    "create table sluice_settings (name text primary key, value text not null)",
                    "insert into sluice_settings (name, value) values ('measurement_partitions', '\(partitionCount)')",
                ]
            ),
            Migration(
                version: 2,
                summary: "the Kafka cluster each stored offset belongs to, and a record of data Kafka lost",
                statements: [
                    // Offsets mean nothing on another cluster: a writer that finds a different id starts over.
                    "alter table writer_offsets add column cluster_id text",
                    """
                    create table writer_data_loss (
                        id bigint generated always as identity primary key,
                        consumer_group text not null,
                        topic text not null,
                        partition int not null,
                        stored_offset bigint,
                        resumed_offset bigint not null,
                        lost_messages bigint,
                        reason text not null,
                        detected_at timestamptz not null default now()
                    )
                    """,
                    "comment on table writer_data_loss is 'Each time the writer found that Kafka no longer held its stored position, and where it resumed. lost_messages is null when the count is unknown (topic recreated, cluster changed).'",
                ]
            ),
            Migration(
                version: 3,
                summary: "Kafka records the writer could not read, kept whole",
                statements: [
                    """
                    create table writer_rejected_records (
                        id bigint generated always as identity primary key,
                        consumer_group text not null,
                        topic text not null,
                        partition int not null,
                        record_offset bigint not null,
                        record_key bytea not null,
                        record_value bytea not null,
                        reason text not null,
                        rejected_at timestamptz not null default now()
                    )
                    """,
                    "comment on table writer_rejected_records is 'Records on the measurements topic that were not Sluice measurements; skipped by the writer, kept here for an operator.'",
                ]
            ),
            Migration(
                version: 4,
                summary: "API keys: who may read and write which domains",
                statements: [
                    // No secret is stored: each is derived from the master key (kept outside the database)
                    // and this row's salt, so a copy of the database authenticates nobody.
                    """
                    create table api_keys (
                        id text primary key,
                        name text not null,
                        rights text[] not null,
                        state text not null check (state in ('active', 'revoked')),
                        salt bytea not null,
                        master_fingerprint text not null,
                        created_at timestamptz not null default now(),
                        rotated_at timestamptz,
                        revoked_at timestamptz
                    )
                    """,
                    "comment on table api_keys is 'Sluice API keys (sluice-admin keys …). secret = derived from SLUICE_AUTH_MASTER_KEY and salt; master_fingerprint names the master key the salt was used with.'",
                ]
            ),
            Migration(
                version: 5,
                summary: "series names and labels, searchable",
                statements: [
                    // `tag` stays the series' one text form (name{k="v",…}); name and labels are the same
                    // series taken apart, for finding series by name and labels.
                    "alter table series add column name text, add column labels jsonb not null default '{}'::jsonb",
                    "update series set name = tag",
                    "alter table series alter column name set not null",
                    // A series inserted with its tag alone (scripts, tools) is a plain name.
                    """
                    create function sluice_series_name_from_tag() returns trigger language plpgsql as $$
                    begin
                        if new.name is null then new.name := new.tag; end if;
                        return new;
                    end $$
                    """,
                    "create trigger series_name_from_tag before insert on series for each row execute function sluice_series_name_from_tag()",
                    "create index series_by_name on series (domain, name)",
                    "create index series_by_labels on series using gin (labels jsonb_path_ops)",
                ]
            ),
        ]
    }
}

/// Zero-padded to three digits, so partition tables sort in order.
func zeroPadded(_ value: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
}

extension SchemaMigrator {
    /// Migrates, retrying with backoff while PostgreSQL cannot be reached (for example while it starts).
    /// - Parameter deadline: when to give up and rethrow the last error.
    /// - Returns: false when the process was asked to stop before the schema could be migrated: a service
    ///   starting up then stops cleanly instead of waiting out the limit.
    @discardableResult
    public func migrateRetrying(_ client: PostgresClient, logger: Logger, giveUpAfter limit: Duration = .seconds(60)) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        var backoff = Duration.milliseconds(100)
        while true {
            guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return false }
            do {
                // An attempt waits for a pool connection as long as PostgreSQL is away; a stop must not.
                _ = try await cancelWhenGracefulShutdown { try await self.migrate(client, logger: logger) }
                return true
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return false }
                guard ContinuousClock.now + backoff < deadline else { throw error }
                logger.warning("schema migration failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
    }
}
