/// Small pieces of JSON text for responses written by hand, where a generic encoder would be slower.
public enum JSONText {
    /// A JSON string literal for `text`, escaped per RFC 8259.
    public static func quoted(_ text: String) -> String {
        var escaped = "\""
        escaped.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                    let hex = String(scalar.value, radix: 16)
                    escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped + "\""
    }

    /// A finite double as a JSON number: the shortest text that reads back to the same value.
    public static func number(_ value: Double) -> String {
        value.description
    }
}
