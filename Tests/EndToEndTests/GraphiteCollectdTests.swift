import Foundation
import SluiceTestSupport
import Testing

/// Graphite's plaintext protocol, proven with collectd (Debian's collectd-core) and its `write_graphite`
/// plugin: its cpu and memory series arrive in the Graphite domain with the values collectd measured;
/// then what collectd cannot show: a bad line is counted and the connection goes on, and lines sent
/// just before SIGTERM are stored before ingest exits 0.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct GraphiteCollectdTests {
    func metricNames(_ stack: SluiceStack, prefix: String) async throws -> [String] {
        let reply = try await HTTP.get(stack.queryURL + "/api/v1/graphite/metricnames?prefix=\(prefix)")
        return ((try? reply.json() as? [String: Any])?["results"] as? [String]) ?? []
    }

    func values(_ stack: SluiceStack, tag: String) async throws -> [Double] {
        let reply = try await HTTP.get(stack.queryURL + "/api?domain=graphite&tag=\(tag)&start=-600000000000&fn=max&step=60000000000&fill=none")
        let samples = ((try? reply.json() as? [String: Any])?["samples"] as? [[String: Any]]) ?? []
        return samples.compactMap { ($0["values"] as? [NSNumber])?.first?.doubleValue }
    }

    @Test func collectdWritesItsSeriesThroughWriteGraphite() async throws {
        let collectd = URL(fileURLWithPath: ProcessInfo.processInfo.environment["SLUICE_TEST_COLLECTD"] ?? "/usr/sbin/collectd")
        try #require(
            FileManager.default.isExecutableFile(atPath: collectd.path),
            "collectd is not installed at \(collectd.path): scripts/test installs Debian's collectd-core")
        try await TestDatabase.with { database, _ in
            let port = freeLoopbackPort()
            let stack = try await SluiceStack(
                database: database, extraEnvironment: ["SLUICE_GRAPHITE_PORT": String(port), "SLUICE_GRAPHITE_DOMAIN": "graphite"])
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("collectd-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = """
                Hostname "sluicetest"
                FQDNLookup false
                BaseDir "\(directory.path)"
                PIDFile "\(directory.appendingPathComponent("collectd.pid").path)"
                PluginDir "/usr/lib/collectd"
                TypesDB "/usr/share/collectd/types.db"
                Interval 1
                LoadPlugin logfile
                <Plugin logfile>
                  LogLevel info
                  File STDOUT
                </Plugin>
                LoadPlugin cpu
                LoadPlugin memory
                LoadPlugin write_graphite
                <Plugin write_graphite>
                  <Node "sluice">
                    Host "127.0.0.1"
                    Port "\(port)"
                    Protocol "tcp"
                    Prefix "collectd."
                    StoreRates true
                    AlwaysAppendDS false
                  </Node>
                </Plugin>
                """
            let file = directory.appendingPathComponent("collectd.conf")
            // collectd wants the last line ended.
            try (config + "\n").write(to: file, atomically: true, encoding: .utf8)
            let agent = try ChildProcess(path: collectd, arguments: ["-f", "-C", file.path])

            var names: [String] = []
            let deadline = ContinuousClock.now + .seconds(45)
            while ContinuousClock.now < deadline {
                names = try await metricNames(stack, prefix: "collectd.sluicetest.")
                if names.contains("collectd.sluicetest.memory.memory-used"), names.contains(where: { $0.hasSuffix(".cpu-idle") }) { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            _ = await agent.terminate()
            let diagnosis = "collectd said:\n\(agent.logTail())\ningest said:\n\(stack.ingest.logTail())"
            #expect(names.contains("collectd.sluicetest.memory.memory-used"), "\(names)\n\(diagnosis)")
            #expect(names.contains { $0.hasPrefix("collectd.sluicetest.cpu-") && $0.hasSuffix(".cpu-idle") }, "\(names)")
            // Used memory is some bytes, at most the machine's.
            let used = try await values(stack, tag: "collectd.sluicetest.memory.memory-used")
            let total = Double(ProcessInfo.processInfo.physicalMemory)
            #expect(!used.isEmpty && used.allSatisfy { $0 > 0 && $0 <= total }, "\(used)")
            let accepted = try await HTTP.metric(stack.ingestURL, #"sluice_ingest_messages_accepted_total{format="graphite"}"#)
            #expect((accepted ?? 0) >= 2)
        }
    }

    @Test func badLinesAreCountedAndTheConnectionGoesOnAndShutdownStoresWhatWasRead() async throws {
        try await TestDatabase.with { database, client in
            let port = freeLoopbackPort()
            let stack = try await SluiceStack(
                database: database, extraEnvironment: ["SLUICE_GRAPHITE_PORT": String(port), "SLUICE_GRAPHITE_DOMAIN": "graphite"])
            let now = Int(Date().timeIntervalSince1970)
            // One connection: good lines around bad ones, the last without its newline, then SIGTERM at once.
            var text = ""
            for index in 0..<500 {
                text += "shutdown.test \(index) \(now - 600 + index)\n"
                if index % 100 == 50 { text += "shutdown.test not-a-number \(now)\n" }
            }
            text += "shutdown.test 500 \(now - 100)"
            let sent = try TCP.send(Data(text.utf8), to: port)
            #expect(sent == text.utf8.count)
            let status = await stack.ingest.terminate()
            #expect(status == 0, "\(stack.ingest.logTail())")
            var stored = 0
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let rows = try await client.query(
                    "select count(*) from measurements m join series s on s.id = m.series_id where s.domain = 'graphite' and s.tag = 'shutdown.test'")
                for try await count in rows.decode(Int.self) { stored = count }
                if stored >= 501 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(stored == 501, "\(stack.ingest.logTail())")
            #expect(stack.ingest.logTail(lines: 400).contains("graphite line refused"))
        }
    }
}
