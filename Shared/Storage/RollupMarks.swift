import Logging
import PostgresNIO

/// Minutes whose tier rows cannot be trusted until the refresher (`RollupRefresher`) rebuilds them from
/// the raw rows: `/api` reads the raw rows there instead, so answers stay exact whatever the refresher's
/// progress. A mark is written in the same transaction as the rows that made it necessary, so none is
/// lost; several marks may cover the same minute.
public enum RollupMarks {
    public static let table = "rollup_marks"

    /// Why a range of minutes was marked.
    public enum Reason: String, Sendable, CaseIterable {
        /// A point arrived for a minute already closed.
        case late
        /// The writer did not see all of an open minute's points in order: the first minutes after it
        /// started or was given the series, a point older than it remembers, or one it could not place
        /// exactly (ragged value counts).
        case unseen
        /// Left by the refresher: the part of a mark in an hour that had not closed yet.
        case deferred
    }

    /// A range of whole minutes, `first` and `last` included (bucket starts).
    public struct Mark: Sendable, Hashable {
        public var series: Int64
        public var first: Int64
        public var last: Int64
        public var reason: Reason

        public init(series: Int64, first: Int64, last: Int64, reason: Reason) {
            self.series = series
            self.first = first
            self.last = last
            self.reason = reason
        }
    }

    public static func insert(_ marks: [Mark], on connection: PostgresConnection, logger: Logger) async throws {
        guard !marks.isEmpty else { return }
        try await connection.query(
            """
            insert into rollup_marks (series_id, first_bucket, last_bucket, reason)
            select * from unnest(\(marks.map(\.series))::bigint[], \(marks.map(\.first))::bigint[], \(marks.map(\.last))::bigint[],
                                 \(marks.map(\.reason.rawValue))::text[])
            """,
            logger: logger
        )
    }

    /// The migration that makes the table.
    static let statements = [
        """
        create table rollup_marks (
            id bigint generated always as identity primary key,
            series_id bigint not null,
            first_bucket bigint not null,
            last_bucket bigint not null,
            reason text not null,
            marked_at timestamptz not null default now()
        )
        """,
        "create index rollup_marks_by_series on rollup_marks (series_id, first_bucket)",
        "comment on table rollup_marks is 'Minutes [first_bucket, last_bucket] of a series whose rollup rows are not to be trusted until the refresher rebuilds them from the raw rows; /api reads raw rows there meanwhile. reason: late (a point for a closed minute), unseen (the writer did not see the minute whole), deferred (waiting for its hour to close).'",
    ]
}
