import Foundation
import SluiceRuntime

/// How a service checks credentials (see the README's configuration table, "Keys and signed requests").
public struct AuthSettings: Sendable {
    public enum Mode: String, Sendable {
        /// Every data endpoint needs a key.
        case required
        /// No checks at all: for a laptop, never for a deployment.
        case off
    }

    /// How far a signed request's date may be from the server's clock, either way; accepted signatures
    /// are remembered this long past their date, so a captured request is usable once.
    public static let maximumClockSkewSeconds: Int64 = 300

    public var mode: Mode
    /// Needed only when `mode` is `required`.
    public var masterKey: MasterKey?
    /// How often the key list is read again from PostgreSQL: revocation takes effect within this.
    public var refreshInterval: Duration
    /// Requests a second each key may make of one service process, on average; bursts up to one second's worth.
    public var requestsPerSecondPerKey: Int
    /// Signatures remembered against replay at most; past it, signed requests get 503 until some expire.
    public var replayCacheLimit: Int

    public init(
        mode: Mode, masterKey: MasterKey?, refreshInterval: Duration = .seconds(1), requestsPerSecondPerKey: Int = 50_000, replayCacheLimit: Int = 2_000_000
    ) {
        self.mode = mode
        self.masterKey = masterKey
        self.refreshInterval = refreshInterval
        self.requestsPerSecondPerKey = requestsPerSecondPerKey
        self.replayCacheLimit = replayCacheLimit
    }

    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> AuthSettings {
        let raw = environment.string("SLUICE_AUTH", default: "off").lowercased()
        guard let mode = Mode(rawValue: raw) else {
            throw ConfigurationError(variable: "SLUICE_AUTH", reason: "'\(raw)' is neither 'required' nor 'off'")
        }
        let masterKey = try MasterKey.fromEnvironment(environment)
        if mode == .required, masterKey == nil {
            throw ConfigurationError(
                variable: "SLUICE_AUTH_MASTER_KEY",
                reason:
                    "SLUICE_AUTH=required needs the master key every key's secret is derived from: set SLUICE_AUTH_MASTER_KEY or SLUICE_AUTH_MASTER_KEY_FILE (make one with `sluice-admin master-key`)"
            )
        }
        return AuthSettings(
            mode: mode,
            masterKey: masterKey,
            refreshInterval: try environment.milliseconds("SLUICE_AUTH_REFRESH_MS", default: 1000, in: 100...5000),
            requestsPerSecondPerKey: try environment.int("SLUICE_AUTH_RATE_PER_KEY", default: 50_000, in: 1...10_000_000),
            replayCacheLimit: try environment.int("SLUICE_AUTH_REPLAY_CACHE_LIMIT", default: 2_000_000, in: 1000...100_000_000)
        )
    }
}
