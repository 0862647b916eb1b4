import SluiceModel

/// What a key may do with a domain's data.
public enum Permission: String, Sendable, Hashable, CaseIterable {
    case read = "r"
    case write = "w"

    var verb: String { self == .read ? "read" : "write" }
}

/// A key's rights: permissions per domain, and for every domain (`*`), as in Amondawa's access control.
///
/// Written `acme:rw,*:r`: comma-separated `domain:permissions`, permissions one or both of `r` and `w`.
/// Domains follow the measurement rules (letters, digits, `.`, `_`, `-`), so `*` cannot be mistaken for one.
public struct Rights: Sendable, Equatable {
    public private(set) var everyDomain: Set<Permission> = []
    public private(set) var domains: [String: Set<Permission>] = [:]

    public init() {}

    public func allows(_ permission: Permission, domain: String) -> Bool {
        everyDomain.contains(permission) || domains[domain]?.contains(permission) == true
    }

    /// Each right on its own, `domain:r` or `domain:w`, domains in byte order and `*` last: the stored
    /// and printed form.
    public var entries: [String] {
        let named = domains.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.flatMap { domain in
            Permission.allCases.filter { domains[domain]?.contains($0) == true }.map { "\(domain):\($0.rawValue)" }
        }
        return named + Permission.allCases.filter(everyDomain.contains).map { "*:\($0.rawValue)" }
    }

    /// Parses `acme:rw,*:r` (spaces around entries allowed).
    public static func parse(_ text: String) throws(RightsError) -> Rights {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        guard !(entries.count == 1 && entries[0].isEmpty) else { throw RightsError("no rights given; write them as domain:rw, e.g. 'acme:rw,*:r'") }
        return try Rights(entries: entries)
    }

    /// Reads rights entries such as `["acme:r", "acme:w", "*:r"]`; each may also name both permissions.
    public init(entries: [String]) throws(RightsError) {
        for entry in entries {
            guard let colon = entry.lastIndex(of: ":") else {
                throw RightsError("'\(entry)' has no ':'; write domain:r, domain:w or domain:rw ('*' for every domain)")
            }
            let domain = String(entry[..<colon])
            let letters = entry[entry.index(after: colon)...]
            var permissions: Set<Permission> = []
            for letter in letters {
                guard let permission = Permission(rawValue: String(letter)) else {
                    throw RightsError("'\(entry)': '\(letter)' is not a permission; use r (read), w (write) or rw")
                }
                permissions.insert(permission)
            }
            guard !permissions.isEmpty else { throw RightsError("'\(entry)' names no permission; use r, w or rw after the ':'") }
            if domain == "*" {
                everyDomain.formUnion(permissions)
            } else if let problem = MeasurementLimits.problem(withDomain: domain) {
                throw RightsError("'\(entry)': \(problem)")
            } else {
                domains[domain, default: []].formUnion(permissions)
            }
        }
    }
}

/// Why a rights string could not be read, in words for the operator who typed it.
public struct RightsError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
