import SluiceSigning

/// What a request's `Authorization` header claims, before anything is checked.
enum PresentedCredentials: Equatable {
    case bearer(KeyCredentials)
    case signed(keyID: String, signature: [UInt8])

    /// nil when the header is neither well-formed scheme.
    static func parse(_ header: String) -> PresentedCredentials? {
        let trimmed = header.drop(while: { $0 == " " })
        guard let space = trimmed.firstIndex(of: " ") else { return nil }
        let scheme = trimmed[..<space]
        let rest = trimmed[trimmed.index(after: space)...].drop(while: { $0 == " " })
        if scheme.lowercased() == "bearer" {
            return KeyCredentials(token: rest.trimmingTrailingSpaces).map(PresentedCredentials.bearer)
        }
        guard scheme.uppercased() == RequestSignature.scheme else { return nil }
        var keyID: String?
        var signature: [UInt8]?
        for part in rest.split(separator: ",") {
            let field = Substring(part.drop(while: { $0 == " " })).trimmingTrailingSpaces
            guard let equals = field.firstIndex(of: "=") else { return nil }
            let value = field[field.index(after: equals)...]
            switch field[..<equals] {
            case "Credential": keyID = value.isEmpty ? nil : String(value)
            case "Signature": signature = value.utf8.count == 64 ? Hex.decode(value) : nil
            default: return nil
            }
        }
        guard let keyID, let signature else { return nil }
        return .signed(keyID: keyID, signature: signature)
    }
}

extension Substring {
    fileprivate var trimmingTrailingSpaces: Substring {
        let text = self
        var end = text.endIndex
        while end > text.startIndex, text[text.index(before: end)] == " " { end = text.index(before: end) }
        return text[..<end]
    }
}
