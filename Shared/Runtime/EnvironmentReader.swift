import Foundation

/// A configuration value that could not be used, naming the variable so the operator knows what to fix.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var variable: String
    public var reason: String

    public var description: String { "\(variable): \(reason)" }

    public init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }
}

/// Reads configuration from environment variables, each with a documented default.
///
/// Every service reads its whole configuration through one of these at start-up, so a bad value fails
/// the start with a message that names the variable rather than surfacing later.
public struct EnvironmentReader: Sendable {
    private let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    public func string(_ name: String, default defaultValue: String) -> String {
        guard let value = values[name], !value.isEmpty else { return defaultValue }
        return value
    }

    public func int(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let raw = values[name], !raw.isEmpty else { return defaultValue }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigurationError(variable: name, reason: "'\(raw)' is not a whole number")
        }
        guard range.contains(value) else {
            throw ConfigurationError(variable: name, reason: "\(value) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    public func port(_ name: String, default defaultValue: Int) throws(ConfigurationError) -> Int {
        try int(name, default: defaultValue, in: 0...65535)
    }

    /// A duration given in milliseconds.
    public func milliseconds(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Duration {
        .milliseconds(try int(name, default: defaultValue, in: range))
    }
}
