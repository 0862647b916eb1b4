/// What analysts' SQL may see (seed 001), and where their queries and results are kept.
///
/// Isolation is PostgreSQL's, not a parser's: the SQL runs on connections logged in as `role`, which may
/// only read the views in schema `hist`, in a read-only transaction. Each view keeps the rows of the
/// domains granted to the backend running it (`hist_grants`, keyed by `pg_backend_pid()` and written by
/// the query service before each query over its own, privileged connections): nothing the SQL can set
/// (`set_config`, `SET`, `RESET ROLE`) changes what a view shows, and the role can write nowhere.
public enum HistorySchema {
    /// The login role history SQL runs as. Roles are per cluster; the grants below are per database.
    public static let role = "sluice_history"

    /// The views' filter: the row's domain is one the running backend was granted (a null list: every
    /// domain, as with auth off).
    static let granted = """
        exists (select 1 from hist_grants g where g.backend_pid = pg_backend_pid() and (g.domains is null or s.domain = any (g.domains)))
        """

    /// Every history connection logs in as the same role, and PostgreSQL lets a role signal and watch its
    /// own backends: one caller's SQL could cancel another's query or read its text in
    /// `pg_stat_activity`. In this database nobody but superusers may now (the query service's own
    /// connections are the superuser's). Without the right to revoke (a service role that is not a
    /// superuser) it changes nothing and says so.
    public static let fencedBackends = """
        do $$ begin
            revoke execute on function pg_cancel_backend(integer) from public;
            revoke execute on function pg_terminate_backend(integer, bigint) from public;
            revoke execute on function pg_stat_get_activity(integer) from public;
            revoke select on pg_stat_activity from public;
        exception when insufficient_privilege then
            raise warning 'sluice: history queries can see and stop each other: the migrating role may not revoke pg_cancel_backend, pg_terminate_backend and pg_stat_activity from public';
        end $$
        """

    /// The rollup tiers as analysts see them: closed buckets only (a series' newest minute and hour have no
    /// row yet), and no bucket a mark covers (late data waiting for the refresher), so every row shown
    /// equals the aggregate of the raw rows it stands for. Per value index: count, sum, min, max, first
    /// and last; `first_time_ns`/`last_time_ns` are the bucket's first and last points.
    public static let tierViews: [String] = RollupTier.all.flatMap { tier in
        let view = tier == .minute ? "hist.minutes" : "hist.hours"
        return [
            """
            create view \(view) with (security_barrier) as
            select s.domain, s.tag, s.name, s.labels, to_timestamp(r.bucket / 1e9) as bucket, r.bucket as bucket_ns,
                   r.counts, r.sums, r.mins, r.maxs, r.firsts, r.lasts, r.first_ts as first_time_ns, r.last_ts as last_time_ns
            from \(tier.table) r join series s on s.id = r.series_id
            where \(granted)
              and not exists (
                  select 1 from \(RollupMarks.table) k
                  where k.series_id = r.series_id and k.first_bucket < r.bucket + \(tier.step) and k.last_bucket >= r.bucket
              )
            """,
            "comment on view \(view) is 'The \(tier.name) rollup tier of the domains this query may read: closed buckets whose rows equal the raw rows, per value index count, sum, min, max, first, last.'",
            "grant select on \(view) to \(role)",
        ]
    }

    public static let statements: [String] = [
        """
        create table hist_queries (
            id uuid primary key,
            sql text not null,
            domains text[],
            state text not null check (state in ('QUEUED', 'RUNNING', 'FINISHED', 'FAILED', 'CANCELLED')),
            submitted_at timestamptz not null default now(),
            started_at timestamptz,
            finished_at timestamptz,
            expires_at timestamptz not null,
            row_count bigint,
            bytes bigint not null default 0,
            columns text,
            error text,
            runner uuid,
            backend_pid int
        )
        """,
        "create index hist_queries_queued on hist_queries (submitted_at) where state = 'QUEUED'",
        "create index hist_queries_expiry on hist_queries (expires_at)",
        "comment on table hist_queries is 'History queries (POST /v0/data_hist/query): the SQL, the domains it may read (null: all), its state, and when its result expires.'",
        """
        create table hist_rows (
            query_id uuid not null references hist_queries (id) on delete cascade,
            row_number int not null,
            cells text not null,
            primary key (query_id, row_number)
        )
        """,
        "comment on table hist_rows is 'Each history result row as a JSON array, numbered from 0: pages are read by number, O(page).'",
        "create table hist_grants (backend_pid int primary key, domains text[])",
        "comment on table hist_grants is 'The domains the history backend with this pid may read while it runs a query (null: all); the hist views filter by it.'",
        "create table hist_runners (instance uuid primary key, seen_at timestamptz not null)",
        "comment on table hist_runners is 'Query service processes running history queries, and when each last said it was alive: a RUNNING query whose runner fell silent failed.'",
        """
        do $$ begin
            create role \(role) login nosuperuser nocreatedb nocreaterole noinherit noreplication;
        exception when duplicate_object or unique_violation then null;
        end $$
        """,
        // A safety net under the read-only transaction every history query runs in.
        "alter role \(role) set default_transaction_read_only = on",
        "create schema hist",
        """
        create view hist.series with (security_barrier) as
        select s.domain, s.tag, s.name, s.labels,
               (select to_timestamp(min(m.ts) / 1e9) from measurements m where m.series_id = s.id) as first_time,
               (select to_timestamp(max(m.ts) / 1e9) from measurements m where m.series_id = s.id) as last_time
        from series s
        where \(granted)
        """,
        """
        create view hist.metrics with (security_barrier) as
        select s.domain, s.tag, s.name, s.labels, to_timestamp(m.ts / 1e9) as time, m.ts as time_ns, m.vals
        from measurements m join series s on s.id = m.series_id
        where \(granted)
        """,
        "comment on view hist.metrics is 'Every stored measurement of the domains this query may read: time (microseconds), time_ns (exact), vals (the values).'",
        "comment on view hist.series is 'Every series of the domains this query may read, with its first and last time.'",
        "revoke all on schema hist from public",
        "grant usage on schema hist to \(role)",
        "grant select on hist.series, hist.metrics to \(role)",
    ]
}
