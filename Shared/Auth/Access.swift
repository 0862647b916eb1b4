import Hummingbird
import SluiceRuntime

/// Who is asking, as the auth middleware established it, and what they may do.
public enum Access: Sendable {
    /// No credentials were checked: routes that need them refuse (the safe default for a route that
    /// was registered outside the authenticated group).
    case anonymous
    /// `SLUICE_AUTH=off`: everything is allowed.
    case unrestricted
    /// A key that proved it holds its secret.
    case key(id: String, rights: Rights)

    public func allows(_ permission: Permission, domain: String) -> Bool {
        switch self {
        case .anonymous: false
        case .unrestricted: true
        case .key(_, let rights): rights.allows(permission, domain: domain)
        }
    }

    /// The domains `permission` is held on: nil for every domain (auth off, or a `*` right), empty for none.
    public func domains(allowing permission: Permission) -> [String]? {
        switch self {
        case .anonymous: []
        case .unrestricted: nil
        case .key(_, let rights):
            rights.everyDomain.contains(permission) ? nil : rights.domains.filter { $0.value.contains(permission) }.keys.sorted()
        }
    }

    /// Throws 403 (or 401 without credentials) unless `permission` is held on `domain`. Routes call this
    /// before they look anything up, so another domain's answer never depends on what it holds.
    public func require(_ permission: Permission, domain: String) throws(APIError) {
        try require(permission, domains: CollectionOfOne(domain))
    }

    /// `require` for every domain a request names: one refused refuses the whole request, and the
    /// answer lists each (`forbidden_domains`).
    public func require(_ permission: Permission, domains: some Sequence<String>) throws(APIError) {
        let refused = Set(domains.filter { !allows(permission, domain: $0) }).sorted()
        guard !refused.isEmpty else { return }
        switch self {
        case .anonymous:
            AuthMetrics.shared.failure(.missing)
            throw AuthFailure.missing.error
        case .unrestricted:
            return
        case .key(let id, _):
            AuthMetrics.shared.failure(.forbidden)
            throw Self.forbidden(key: id, permission: permission, domains: refused)
        }
    }

    /// The one 403 every route answers: which key, what it may not do, and each domain refused.
    static func forbidden(key id: String, permission: Permission, domains: [String]) -> APIError {
        APIError(
            .forbidden,
            "key \(id) may not \(permission.verb) \(domains.count == 1 ? "domain" : "domains") \(domains.map(JSONText.quoted).joined(separator: ", ")); the whole request was refused",
            details: ["forbidden_domains": .array(domains.map(JSONDetail.string))]
        )
    }
}

/// The request context of every Sluice HTTP service: Hummingbird's own, plus who is asking.
public struct SluiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var access: Access = .anonymous

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
