/// Identifies a series across the pipeline: the Kafka key, the `series` row, the query parameter.
///
/// Equal only when domain and tag are the same UTF-8 bytes, as PostgreSQL compares them. Swift's own
/// `String` equality treats canonically equivalent text as equal ("Cafe\u{301}" and "Café"), which
/// would let a cache keyed by series answer one series with another's data.
public struct SeriesKey: Hashable, Sendable {
    public var domain: String
    public var tag: String

    public init(domain: String, tag: String) {
        self.domain = domain
        self.tag = tag
    }

    public static func == (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        lhs.domain.utf8.elementsEqual(rhs.domain.utf8) && lhs.tag.utf8.elementsEqual(rhs.tag.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        for byte in domain.utf8 { hasher.combine(byte) }
        hasher.combine(0xFF as UInt8)  // never a UTF-8 byte: "ab"+"c" and "a"+"bc" hash apart
        for byte in tag.utf8 { hasher.combine(byte) }
    }
}
