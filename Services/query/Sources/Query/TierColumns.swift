import SluiceModel

/// The per-index arrays of a rollup row that an answer needs. A tier row holds nine arrays, and
/// producing them (`array_send`) is most of PostgreSQL's work for a day of minute rows: `fn=avg` needs
/// only counts and sums, so it asks for those and the rest stay in the table.
struct TierColumns: OptionSet, Sendable {
    let rawValue: UInt8

    static let sums = TierColumns(rawValue: 1 << 0)
    static let minimums = TierColumns(rawValue: 1 << 1)
    static let maximums = TierColumns(rawValue: 1 << 2)
    static let firsts = TierColumns(rawValue: 1 << 3)
    static let lasts = TierColumns(rawValue: 1 << 4)
    static let increases = TierColumns(rawValue: 1 << 5)
    /// The row's first and last points: the terms that join it to its neighbours, which only `rate` counts.
    static let lastPoint = TierColumns(rawValue: 1 << 6)
    static let firstPoint = TierColumns(rawValue: 1 << 7)

    /// Every array, for callers that combine whole states (KairosDB's aggregators).
    static let all: TierColumns = [.sums, .minimums, .maximums, .firsts, .lasts, .increases, .firstPoint, .lastPoint]

    /// Counts, first and last times always come: they are small, and every function needs the counts.
    init(answering function: AggregateFunction) {
        switch function {
        case .last: self = .lasts
        case .first: self = .firsts
        case .min: self = .minimums
        case .max: self = .maximums
        case .avg, .sum: self = .sums
        case .count: self = []
        case .rate: self = [.increases, .firstPoint, .lastPoint]
        }
    }

    init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// The row's columns in the order `BucketState`'s arrays are read back, each with its flag (nil:
    /// always sent).
    static let order: [(column: String, flag: TierColumns?)] = [
        ("counts", nil), ("sums", .sums), ("mins", .minimums), ("maxs", .maximums), ("firsts", .firsts),
        ("lasts", .lasts), ("increases", .increases), ("first_point", .firstPoint), ("last_point", .lastPoint),
    ]

    /// The SQL that packs one row's wanted arrays (after its bucket, first and last times).
    var packedArrays: String {
        Self.order.filter { $0.flag.map(contains) ?? true }.map { "array_send(\($0.column))" }.joined(separator: " || ")
    }
}
