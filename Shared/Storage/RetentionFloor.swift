import Logging
import PostgresNIO

/// Where each time-partitioned table's dropped partitions end: rows older than a table's floor may be
/// gone. The tiers outlive the raw rows they were folded from, so nothing may rebuild a tier row from raw
/// rows below the raw floor — it would replace what the tier still knows with nothing.
///
/// `PartitionKeeper` raises a floor in the transaction that drops the partitions, holding this lock
/// exclusively; whoever rebuilds tier rows from raw rows (`RollupRefresher`, `RollupRebuild`) holds it
/// shared for its transaction and reads the floor inside it, so no drop lands between reading the floor
/// and reading the rows above it.
public enum RetentionFloor {
    static let lockKey: Int64 = SchemaMigrator.advisoryLockKey + 2

    /// Waits until no drop is under way and keeps drops out until the transaction ends.
    static func holdShared(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("select pg_advisory_xact_lock_shared(\(lockKey))", logger: logger)
    }

    /// Keeps rebuilders out until the transaction ends (waiting for those running).
    static func holdExclusive(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("select pg_advisory_xact_lock(\(lockKey))", logger: logger)
    }

    /// The raw rows' floor, or nil while no raw partition holding rows was ever dropped.
    public static func raw(on connection: PostgresConnection, logger: Logger) async throws -> Int64? {
        try await floor(of: .raw, on: connection, logger: logger)
    }

    public static func floor(of table: TimePartitionedTable, on connection: PostgresConnection, logger: Logger) async throws -> Int64? {
        var floor: Int64?
        let rows = try await connection.query("select dropped_before from retention_floors where tier = \(table.tier)", logger: logger)
        for try await value in rows.decode(Int64.self) { floor = value }
        return floor
    }

    /// Raises `table`'s floor to `time` (never lowers it).
    static func raise(_ table: TimePartitionedTable, to time: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            insert into retention_floors (tier, dropped_before) values (\(table.tier), \(time))
            on conflict (tier) do update set dropped_before = greatest(retention_floors.dropped_before, excluded.dropped_before), raised_at = now()
            """,
            logger: logger
        )
    }

    /// SQL for the raw floor inside another statement (the oldest time when nothing was dropped).
    public static let rawFloorExpression = "coalesce((select dropped_before from retention_floors where tier = 'raw'), -9223372036854775808)"

    /// The migration that makes the table.
    static let statements = [
        """
        create table retention_floors (
            tier text primary key,
            dropped_before bigint not null,
            raised_at timestamptz not null default now()
        )
        """,
        "comment on table retention_floors is 'Per tier, where its dropped partitions end: rows older than dropped_before may be gone. Tier rows below the raw floor are never rebuilt from raw rows (the refresher drops such marks, sluice-admin rollups rebuild starts there) and /api ignores marks there.'",
    ]
}
