import ArgumentParser
import AsyncHTTPClient
import Foundation
import LoadGen
// sluice-client: seed 003's readers; measures /api (and optionally bridge) latency and data lag, and fails
// the run past its thresholds.
import SluiceModel

extension ClientConfiguration.Target: ExpressibleByArgument {}

@main
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-client",
        abstract: "Calls /api (and the bridge) like seed 003's clients and exits non-zero when latency or lag miss their thresholds."
    )

    private static let environment = ProcessInfo.processInfo.environment

    @Option(help: "query base URL") var url = environment["SLUICE_QUERY_URL"] ?? "http://127.0.0.1:8081"
    @Option(help: "bridge base URL") var bridgeURL = environment["SLUICE_BRIDGE_URL"] ?? "http://127.0.0.1:8083"
    @Option(help: "what each read asks: api, bridge, or both (the same tag and window of each, bridge first)")
    var target: ClientConfiguration.Target = .api
    @Option(help: "number of clients") var clients = 10
    @Option(help: "seconds between one client's reads") var interval: Double = 1
    @Option(help: "seconds to run") var duration: Double = 60
    @Option(help: "pick tags among the N most popular") var topTags = 100
    @Option(help: "every window this many seconds (a dashboard); default: random from 600 to 86400, as seed 003")
    var windowSeconds: Double?
    @Flag(help: "ask the bridge for each top tag's window once before measuring (measures cached windows)")
    var warmUp = false
    @Option(help: "random seed") var seed: UInt64 = 2
    @Option(help: "fail when /api latency p99 exceeds this many ms") var maxP99Ms: Double = 100
    @Option(help: "fail when lag p99 exceeds this many ms") var maxLagMs: Double = 2000
    @Option(help: "fail when bridge latency p99 exceeds this many ms") var maxBridgeP99Ms: Double = 2
    @OptionGroup var key: KeyOptions

    mutating func run() async throws {
        guard clients >= 1, interval > 0, duration > 0, duration <= 86_400, topTags >= 1 else {
            throw ValidationError("--clients, --interval, --duration (≤ 86400) and --top-tags must be positive")
        }
        if let windowSeconds, !(1...31_622_400).contains(windowSeconds) {
            throw ValidationError("--window-seconds must be from 1 to 31622400 (a year)")
        }
        let configuration = ClientConfiguration(
            url: url, bridgeURL: bridgeURL, target: target, clients: clients,
            interval: .milliseconds(Int64(interval * 1000)), duration: .milliseconds(Int64(duration * 1000)), topTags: topTags,
            shortestWindow: .milliseconds(Int64((windowSeconds ?? 600) * 1000)),
            longestWindow: .milliseconds(Int64((windowSeconds ?? 86_400) * 1000)),
            seed: seed, maxP99: .milliseconds(Int64(maxP99Ms)), maxLagP99: .milliseconds(Int64(maxLagMs)),
            maxBridgeP99: .microseconds(Int64(maxBridgeP99Ms * 1000)), warmUp: warmUp,
            authorization: try key.authorization()
        )
        let windows = windowSeconds.map { "\($0) s windows" } ?? "windows of 10 min to 24 h"
        print("[client] \(clients) clients, one read per \(interval) s each, for \(duration) s, \(windows), asking \(target.rawValue)")
        let (run, statistics) = try await HTTPClient.withLoadClient(connections: clients) { client in
            let run = ClientRun(configuration: configuration, client: client)
            return (run, await run.run())
        }
        let api = LatencySummary(statistics.api.latency)
        let bridge = LatencySummary(statistics.bridge.latency)
        if target != .bridge {
            print("[client] /api latency: \(api.line)")
            print("[client] data lag:     \(LatencySummary(statistics.lag).line)")
            print("[client] /api " + Self.describe(statistics.api, elapsed: statistics.elapsed.fractionalSeconds))
        }
        if target != .api {
            print("[client] bridge latency: \(bridge.line)")
            print("[client] bridge " + Self.describe(statistics.bridge, elapsed: statistics.elapsed.fractionalSeconds))
        }
        if target == .both, api.count > 0, bridge.count > 0, bridge.p50 > 0, bridge.p99 > 0 {
            print(String(format: "[client] /api ÷ bridge: p50 %.1f×  p99 %.1f×", api.p50 / bridge.p50, api.p99 / bridge.p99))
        }
        print("[client] late starts \(statistics.lateStarts)")
        let failures = run.verdict(statistics)
        if failures.isEmpty {
            print("[client] PASS: thresholds met")
        } else {
            print("[client] FAIL: " + failures.joined(separator: "; "))
            throw ExitCode(1)
        }
    }

    /// Answers by status and the rate achieved (which falls short of the offered rate when reads start late).
    private static func describe(_ endpoint: EndpointStatistics, elapsed: Double) -> String {
        "statuses: " + endpoint.statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
            + "  transport errors \(endpoint.transportErrors)  " + String(format: "%.1f req/s", Double(endpoint.requests) / max(elapsed, 0.001))
    }
}
