import Foundation

/// Where the servers for integration and end-to-end tests are, from the variables `scripts/test` sets.
///
/// There is no silent skip: without them these suites fail and say how to run them.
public struct TestSettings: Sendable {
    public var postgresHost: String
    public var postgresPort: Int
    public var postgresUser: String
    /// Folder holding the built executables (`swift build --show-bin-path`).
    public var binDirectory: URL

    public struct Missing: Error, CustomStringConvertible {
        public var variable: String
        public var description: String {
            "\(variable) is not set: run these tests with scripts/test, which starts PostgreSQL and sets it"
        }
    }

    public static func fromEnvironment() throws -> TestSettings {
        let environment = ProcessInfo.processInfo.environment
        func required(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else { throw Missing(variable: name) }
            return value
        }
        guard let port = Int(try required("SLUICE_TEST_PG_PORT")) else { throw Missing(variable: "SLUICE_TEST_PG_PORT") }
        return TestSettings(
            postgresHost: environment["SLUICE_TEST_PG_HOST"] ?? "127.0.0.1",
            postgresPort: port,
            postgresUser: environment["SLUICE_TEST_PG_USER"] ?? "sluice",
            binDirectory: URL(fileURLWithPath: try required("SLUICE_TEST_BIN_DIR"))
        )
    }

    /// The Python interpreter of the venv `scripts/test` makes with the agents' client libraries (the
    /// InfluxDB clients), from `SLUICE_TEST_AGENTS_PYTHON`.
    public static func agentsPython() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["SLUICE_TEST_AGENTS_PYTHON"], !path.isEmpty else {
            throw Missing(variable: "SLUICE_TEST_AGENTS_PYTHON")
        }
        return path
    }
}
