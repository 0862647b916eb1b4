/// The query string as a signed request covers it: every parameter as `name=value`, each part
/// percent-encoded per RFC 3986 (only `A–Z a–z 0–9 - . _ ~` left as they are), sorted by the encoded
/// name and then the encoded value (byte order), joined by `&`; empty when there are none.
///
/// Encoding before sorting makes the order independent of how a client chose to escape: the server
/// decodes what arrived and encodes it again, the client encodes what it meant to send.
public enum CanonicalQuery {
    /// From the parameters a client is about to send (decoded names and values).
    public static func encode(parameters: [(name: String, value: String)]) -> String {
        canonical(parameters.map { (Array($0.name.utf8), Array($0.value.utf8)) })
    }

    private static func canonical(_ parameters: [(name: [UInt8], value: [UInt8])]) -> String {
        parameters
            .map { (percentEncode($0.name), percentEncode($0.value)) }
            .sorted { left, right in
                left.0 != right.0 ? left.0.utf8.lexicographicallyPrecedes(right.0.utf8) : left.1.utf8.lexicographicallyPrecedes(right.1.utf8)
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// From a query string as it arrived on the request line (without the `?`); nil when it holds a
    /// malformed percent escape. `+` is a plus sign, as RFC 3986 reads it (send spaces as `%20`); a
    /// parameter without `=` has an empty value; empty pieces (`a=1&&b=2`) are not parameters.
    public static func encode(rawQuery: some StringProtocol) -> String? {
        var parameters: [(name: [UInt8], value: [UInt8])] = []
        for piece in Array(rawQuery.utf8).split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let name: ArraySlice<UInt8>
            let value: ArraySlice<UInt8>
            if let equals = piece.firstIndex(of: UInt8(ascii: "=")) {
                name = piece[piece.startIndex..<equals]
                value = piece[piece.index(after: equals)...]
            } else {
                name = piece
                value = piece[piece.endIndex...]
            }
            guard let decodedName = percentDecode(name), let decodedValue = percentDecode(value) else { return nil }
            parameters.append((decodedName, decodedValue))
        }
        return canonical(parameters)
    }

    /// RFC 3986 percent-encoding of the UTF-8 bytes, upper-case hex, unreserved characters kept.
    public static func percentEncode(_ text: String) -> String {
        percentEncode(Array(text.utf8))
    }

    static func percentEncode(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        encoded.reserveCapacity(bytes.count)
        for byte in bytes {
            if isUnreserved(byte) {
                encoded.append(byte)
            } else {
                encoded.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Decodes `%XX` escapes; the bytes need not be valid UTF-8 (they are re-encoded byte for byte).
    static func percentDecode<Bytes: Collection>(_ bytes: Bytes) -> [UInt8]? where Bytes.Element == UInt8 {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let high = bytes.index(after: index)
                guard high != bytes.endIndex else { return nil }
                let low = bytes.index(after: high)
                guard low != bytes.endIndex, let value = Hex.decode(String(decoding: [bytes[high], bytes[low]], as: UTF8.self))?.first else {
                    return nil
                }
                decoded.append(value)
                index = bytes.index(after: low)
            } else {
                decoded.append(byte)
                index = bytes.index(after: index)
            }
        }
        return decoded
    }
}
