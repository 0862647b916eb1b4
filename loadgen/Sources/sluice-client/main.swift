// sluice-client: seed 003's readers; measures /api latency and data lag and fails the run past its thresholds.
import ArgumentParser
import AsyncHTTPClient
import Foundation
import LoadGen

@main
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-client",
        abstract: "Calls /api like seed 003's clients and exits non-zero when latency or lag miss their thresholds."
    )

    @Option(help: "query base URL") var url = ProcessInfo.processInfo.environment["SLUICE_QUERY_URL"] ?? "http://127.0.0.1:8081"
    @Option(help: "number of clients") var clients = 10
    @Option(help: "seconds between one client's requests") var interval: Double = 1
    @Option(help: "seconds to run") var duration: Double = 60
    @Option(help: "pick tags among the N most popular") var topTags = 100
    @Option(help: "random seed") var seed: UInt64 = 2
    @Option(help: "fail when latency p99 exceeds this many ms") var maxP99Ms: Double = 100
    @Option(help: "fail when lag p99 exceeds this many ms") var maxLagMs: Double = 2000

    mutating func run() async throws {
        guard clients >= 1, interval > 0, duration > 0, duration <= 86_400, topTags >= 1 else {
            throw ValidationError("--clients, --interval, --duration (≤ 86400) and --top-tags must be positive")
        }
        let configuration = ClientConfiguration(
            url: url, clients: clients, interval: .milliseconds(Int64(interval * 1000)), duration: .milliseconds(Int64(duration * 1000)),
            topTags: topTags, seed: seed, maxP99: .milliseconds(Int64(maxP99Ms)), maxLagP99: .milliseconds(Int64(maxLagMs))
        )
        print("[client] \(clients) clients, one request per \(interval) s each, for \(duration) s against \(url)")
        let (run, statistics) = try await HTTPClient.withLoadClient(connections: clients) { client in
            let run = ClientRun(configuration: configuration, client: client)
            return (run, await run.run())
        }
        print("[client] /api latency: \(LatencySummary(statistics.latency).line)")
        print("[client] data lag:     \(LatencySummary(statistics.lag).line)")
        print("[client] statuses: " + statistics.statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
            + "  transport errors \(statistics.transportErrors)  late starts \(statistics.lateStarts)")
        let failures = run.verdict(statistics)
        if failures.isEmpty {
            print("[client] PASS: p99 ≤ \(maxP99Ms) ms and lag p99 ≤ \(maxLagMs) ms")
        } else {
            print("[client] FAIL: " + failures.joined(separator: "; "))
            throw ExitCode(1)
        }
    }
}
