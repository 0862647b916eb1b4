import Logging
import PostgresNIO
import ServiceLifecycle
import SluiceModel

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

    /// Applies every migration the database lacks, up to `through` (tests of an upgrade stop early).
    /// - Returns: the versions applied by this call (empty when the schema was current).
    @discardableResult
    public func migrate(_ client: PostgresClient, logger: Logger, through last: Int = .max) async throws -> [Int] {
        try await client.withTransaction(logger: logger) { connection in
            // A service's statement timeout is for its queries: a migration (waiting for another process's,
            // building tiers from stored rows) runs as long as it needs.
            try await connection.query("set local statement_timeout = 0", logger: logger)
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
            for migration in Self.migrations(partitionCount: partitionCount) where migration.version > current && migration.version <= last {
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

    /// The version a fully migrated database is at.
    public static var latestVersion: Int { migrations(partitionCount: 1).last?.version ?? 0 }

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
                ]
                    + (0..<partitionCount).map { remainder in
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
            Migration(
                version: 6,
                summary: "rollup tiers: 1-minute and 1-hour aggregates per series, built from the rows already stored",
                statements: RollupTier.all.flatMap { tier in
                    [
                        """
                        create table \(tier.table) (\(rollupColumns))
                        """,
                        "comment on table \(tier.table) is 'Per series and bucket of \(tier.step / 1_000_000_000) s, per value index: count, sum, min, max, first, last and counter increase (a fall counts as a reset; the first point counts from the point before it). Kept by the writer in the same transaction as the rows.'",
                        Self.rollupBackfill(table: tier.table, step: tier.step),
                    ]
                }
            ),
            Migration(
                version: 7,
                summary: "time partitions: measurements by day, the tiers by week and by 30 days, so retention drops whole tables",
                statements: TimePartitionedTable.all.flatMap { table in
                    timePartitioning(table, columns: table.hashed ? measurementColumns : rollupColumns)
                }
            ),
            Migration(
                version: 8,
                summary: "self-contained rollup blocks: each tier row keeps its first point and counts only its own points' increases",
                statements: RollupTier.all.flatMap { tier in
                    [
                        "alter table \(tier.table) add column first_point float8[] not null default '{}'",
                        Self.selfContainedIncreases(table: tier.table),
                        "alter table \(tier.table) alter column first_point drop default",
                        "comment on column \(tier.table).increases is 'Counter increase of the points inside the bucket, each against the point before it in the bucket (a fall counts as a reset); the term joining the first point to the bucket before is counted when buckets are appended. Empty first_point: a row from before migration 8 whose increases count that term already.'",
                    ]
                }
            ),
            Migration(
                version: 9,
                summary: "rollup marks: minutes whose tier rows wait to be rebuilt from the raw rows",
                statements: RollupMarks.statements
            ),
            Migration(
                version: 10,
                summary: "history queries: analysts' SQL over read-only views, fenced in by a role and per-backend domain grants",
                statements: HistorySchema.statements
            ),
            Migration(
                version: 11,
                summary: "history queries cannot watch or stop each other's backends",
                statements: [HistorySchema.fencedBackends]
            ),
            Migration(
                version: 12,
                summary: "history queries see the rollup tiers: hist.minutes and hist.hours, closed and unmarked buckets only",
                statements: HistorySchema.tierViews
            ),
            Migration(
                version: 13,
                summary: "retention floors: where each tier's dropped partitions end, so nothing rebuilds tier rows from raw rows that are gone",
                statements: RetentionFloor.statements
            ),
        ]
    }

    static let measurementColumns = "series_id bigint not null, ts bigint not null, vals float8[] not null, primary key (series_id, ts)"
    static let rollupColumns = """
        series_id bigint not null, bucket bigint not null, counts int[] not null, sums float8[] not null, mins float8[] not null,
        maxs float8[] not null, firsts float8[] not null, lasts float8[] not null, increases float8[] not null,
        first_ts bigint not null, last_ts bigint not null, last_point float8[] not null, primary key (series_id, bucket)
        """

    /// Turns `table` into a range-partitioned table whose only partitions are the catch-alls
    /// (`PartitionKeeper` makes the slots): the table as it was, with every row it holds, becomes
    /// `_before` up to the slot after today's; rows past that (future times) move to `_after`.
    static func timePartitioning(_ table: TimePartitionedTable, columns: String) -> [String] {
        let (name, key, width) = (table.table, table.column, table.width)
        let firstSlot = "((floor(extract(epoch from now()) * 1000000000 / \(width))::bigint + 1) * \(width))"
        return [
            "alter table \(name) rename to \(table.beforeName)",
            "alter index \(name)_pkey rename to \(table.beforeName)_pkey",
            "create table \(name) (\(columns)) partition by range (\(key))",
            "create table \(table.afterName) partition of \(name) for values from (\(firstSlot)) to (maxvalue)",
            "insert into \(table.afterName) select * from \(table.beforeName) where \(key) >= \(firstSlot)",
            "delete from \(table.beforeName) where \(key) >= \(firstSlot)",
            "alter table \(name) attach partition \(table.beforeName) for values from (minvalue) to (\(firstSlot))",
            "comment on table \(name) is 'Range-partitioned on \(key): slots of \(width / 86_400_000_000_000) day(s) made ahead and dropped whole past retention by the writer (PartitionKeeper); \(table.beforeName) and \(table.afterName) catch times outside the slots.'",
        ]
    }

    /// Takes the term joining each tier row's first point to the point before it out of its increases
    /// (where the first point is still stored; the point before is the previous row's last, as every
    /// closed bucket holding points has a row) and records the first point. Rows whose first point has
    /// passed raw retention keep their increases and an empty first point, which appending then leaves
    /// as it is: the same totals as before.
    static func selfContainedIncreases(table: String) -> String {
        """
        update \(table) r set first_point = f.vals,
            increases = case when p.before is null then r.increases else array(
                select case when u.i > cardinality(p.before) or u.i > cardinality(f.vals) then u.inc
                            when f.vals[u.i] >= p.before[u.i] then u.inc - (f.vals[u.i] - p.before[u.i])
                            else u.inc - f.vals[u.i] end
                from unnest(r.increases) with ordinality as u(inc, i) order by u.i) end
        from (select series_id, bucket, lag(last_point) over (partition by series_id order by bucket) as before from \(table)) p,
             measurements f
        where p.series_id = r.series_id and p.bucket = r.bucket and f.series_id = r.series_id and f.ts = r.first_ts
        """
    }

    /// The tier for rows stored before tiers existed, computed in one statement with the same rules
    /// as the writer's (`BucketState`).
    public static func rollupBackfill(table: String, step: Int64) -> String {
        let closingGrace = RollupTier.closingGrace
        return """
            insert into \(table) (series_id, bucket, counts, sums, mins, maxs, firsts, lasts, increases, first_ts, last_ts, last_point)
            with points as (
                select series_id, ts, vals, lag(vals) over (partition by series_id order by ts) as prev from measurements
            ), cells as (
                select p.series_id, p.ts - p.ts % \(step) as bucket, u.i, count(*)::int as n, sum(u.v) as s, min(u.v) as lo, max(u.v) as hi,
                       (array_agg(u.v order by p.ts))[1] as f, (array_agg(u.v order by p.ts desc))[1] as l,
                       sum(case when p.prev is null or u.i > cardinality(p.prev) then 0
                                when u.v >= p.prev[u.i] then u.v - p.prev[u.i] else u.v end) as inc
                from points p cross join lateral unnest(p.vals) with ordinality as u(v, i)
                group by 1, 2, 3
            ), newest as (
                -- Only closed buckets get rows (see RollupTier.closingGrace): those before the minute holding
                -- the series' newest point less the grace.
                select series_id, (max(ts) - \(closingGrace)) - (max(ts) - \(closingGrace)) % 60000000000 as closed_before
                from measurements group by 1
            ), bounds as (
                select m.series_id, m.ts - m.ts % \(step) as bucket, min(m.ts) as first_ts, max(m.ts) as last_ts
                from measurements m join newest n on n.series_id = m.series_id
                group by 1, 2, n.closed_before having (m.ts - m.ts % \(step)) + \(step) <= n.closed_before
            )
            select c.series_id, c.bucket, array_agg(c.n order by c.i) as counts, array_agg(c.s order by c.i) as sums,
                   array_agg(c.lo order by c.i) as mins, array_agg(c.hi order by c.i) as maxs, array_agg(c.f order by c.i) as firsts,
                   array_agg(c.l order by c.i) as lasts, array_agg(c.inc order by c.i) as increases,
                   b.first_ts, b.last_ts, m.vals as last_point
            from cells c
            join bounds b on b.series_id = c.series_id and b.bucket = c.bucket
            join measurements m on m.series_id = b.series_id and m.ts = b.last_ts
            group by c.series_id, c.bucket, b.first_ts, b.last_ts, m.vals
            """
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
