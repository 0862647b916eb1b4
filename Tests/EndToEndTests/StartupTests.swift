import Foundation
import SluiceTestSupport
import Testing

/// `/health` means the same in every service: a service that keeps a schema answers only once the
/// schema is migrated, so "healthy" is never said by a writer that cannot store yet.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct StartupTests {
    @Test(arguments: ["sluice-writer", "sluice-query"])
    func noHealthyAnswerBeforeTheSchemaIsMigrated(executable: String) async throws {
        let settings = try TestSettings.fromEnvironment()
        let port = freeLoopbackPort()
        let service = try ChildProcess(
            executable, settings: settings,
            environment: [
                "SLUICE_PG_HOST": "127.0.0.1", "SLUICE_PG_PORT": String(freeLoopbackPort()),  // nothing listens there
                "SLUICE_KAFKA_BOOTSTRAP": "127.0.0.1:1",
                "SLUICE_WRITER_PORT": String(port), "SLUICE_QUERY_PORT": String(port),
            ])
        let deadline = ContinuousClock.now + .seconds(4)
        var healthy = false
        while ContinuousClock.now < deadline, service.isRunning {
            if let reply = try? await HTTP.get("http://127.0.0.1:\(port)/health"), reply.status == 200 { healthy = true }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!healthy, "\(executable) said it was healthy without a database:\n\(service.logTail())")
        #expect(service.isRunning, "\(executable) should keep retrying the migration, not exit:\n\(service.logTail())")
        #expect(await service.terminate() == 0)
    }
}
