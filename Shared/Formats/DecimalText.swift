/// Numbers as agents write them in text lines and query strings (InfluxDB fields, Graphite, Flux), read
/// one way for every format.
enum DecimalText {
    /// A finite decimal number: digits, `.`, sign and exponent only. Swift's `Double(String)` alone
    /// would also take `nan`, `inf` and hexadecimal.
    static func double(_ text: some Collection<UInt8>) -> Double? {
        let allowed = text.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        }
        guard allowed, let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else { return nil }
        return value
    }

    /// `1700000000` or `1700000000.25` seconds as nanoseconds, digit by digit (a double would round the
    /// fraction).
    static func nanoseconds(fromSeconds text: Substring) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.utf8.count <= 11, whole.allSatisfy(\.isASCIIDigit), let seconds = Int64(whole) else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else { return nil }
            // Nanoseconds are nine digits; further ones are dropped, not rounded.
            let nine = String(digits.prefix(9)).padding(toLength: 9, withPad: "0", startingAt: 0)
            fraction = Int64(nine) ?? 0
        }
        // Checked: eleven digits of seconds pass the length check yet overflow as nanoseconds (found by
        // the fuzzer; a Flux or Graphite timestamp would have trapped ingest).
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (time, carry) = scaled.addingReportingOverflow(fraction)
        return overflow || carry ? nil : time
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
