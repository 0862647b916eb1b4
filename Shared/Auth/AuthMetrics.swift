import Metrics

/// `sluice_auth_failures_total{reason}`, one counter per reason, made once.
public struct AuthMetrics: Sendable {
    public static let shared = AuthMetrics()

    private let failures: [AuthFailure: Counter]
    let accepted = Counter(label: "sluice_auth_requests_accepted_total")

    private init() {
        failures = Dictionary(
            uniqueKeysWithValues: AuthFailure.allCases.map { ($0, Counter(label: "sluice_auth_failures_total", dimensions: [("reason", $0.rawValue)])) })
    }

    public func failure(_ reason: AuthFailure) {
        failures[reason]?.increment()
    }
}
