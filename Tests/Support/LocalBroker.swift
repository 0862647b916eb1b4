import Foundation

/// A private `sluice-local-kafka` for one test: its own topics, so tests never share a partition.
public final class LocalBroker: Sendable {
    public let bootstrap: String
    private let child: ChildProcess

    public struct StartFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// - Parameter topics: name → partition count.
    public init(settings: TestSettings, topics: [String: Int]) async throws {
        let addressFile = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-\(UUID().uuidString).address")
        child = try ChildProcess(
            "sluice-local-kafka",
            settings: settings,
            environment: [
                "SLUICE_LOCAL_KAFKA_TOPICS": topics.map { "\($0.key):\($0.value)" }.joined(separator: ","),
                "SLUICE_LOCAL_KAFKA_ADDRESS_FILE": addressFile.path,
            ]
        )
        let deadline = ContinuousClock.now + .seconds(10)
        var address: String?
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: addressFile, encoding: .utf8), !text.isEmpty {
                address = text.trimmingCharacters(in: .whitespacesAndNewlines)
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let address else {
            throw StartFailure(description: "the local broker did not start: \(child.logTail())")
        }
        bootstrap = address
    }

    public func stop() async {
        await child.terminate()
    }
}
