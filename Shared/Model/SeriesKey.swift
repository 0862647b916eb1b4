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
        Self.combine(domain, into: &hasher)
        hasher.combine(0xFF as UInt8)  // never a UTF-8 byte: "ab"+"c" and "a"+"bc" hash apart
        Self.combine(tag, into: &hasher)
    }

    /// A string's UTF-8 bytes, in one call when the string stores them contiguously (native strings do).
    private static func combine(_ text: String, into hasher: inout Hasher) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil {
            Array(text.utf8).withUnsafeBytes { hasher.combine(bytes: $0) }  // the same bytes hash the same either way
        }
    }
}
