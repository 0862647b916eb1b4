// sluice-bench-peers: the same load and the same reads against Sluice, InfluxDB 1.x and Prometheus, each
// in its native format, for the side-by-side latency comparison in scripts/bench-peers (issue 17).
//
//   sluice-bench-peers history --system influx|prometheus --url URL --end NS [--hours 24] [--step-ms 1000]
//   sluice-bench-peers load --system sluice|influx|prometheus --url URL [--rate 10000] [--batch 1000] [--duration 60]
//   sluice-bench-peers read --target api|bridge|influx|prometheus --url URL [--clients 10] [--interval 1]
//       [--closed-loop N] [--window-seconds S] [--duration 60]
//   sluice-bench-peers warm-up --url BRIDGE_URL [--window-seconds 86400]
//
// Each prints one JSON line of figures on standard output.
import ArgumentParser
import AsyncHTTPClient
import Foundation
import LoadGen
import SluiceModel

extension PeerSystem: ExpressibleByArgument {}
extension ReadTarget: ExpressibleByArgument {}

@main
struct PeersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-bench-peers",
        abstract: "Writes and reads Sluice, InfluxDB and Prometheus alike, for scripts/bench-peers.",
        subcommands: [History.self, Load.self, Read.self, WarmUp.self]
    )

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Writes the preloaded history (what scripts/benchmark puts in PostgreSQL).")
        @Option var system: PeerSystem
        @Option var url: String
        @Option(help: "the newest point's time, ns") var end: Int64
        @Option var hours: Int = 24
        @Option var stepMs: Int = 1000
        @Option var tags: Int = 100
        @Option(help: "messages per request") var batch: Int = 10_000
        @Option var concurrency: Int = 2

        func run() async throws {
            guard hours > 0, stepMs > 0, tags > 0, batch > 0, concurrency > 0 else { throw ValidationError("every count must be positive") }
            let history = PeerHistory(tags: tags, end: end, span: Int64(hours) * 3_600_000_000_000, step: Int64(stepMs) * 1_000_000)
            let started = ContinuousClock.now
            try await HTTPClient.withLoadClient(connections: concurrency) { client in
                try await history.write(to: url, system: system, batch: batch, concurrency: concurrency, client: client)
            }
            let seconds = (ContinuousClock.now - started).fractionalSeconds
            print(#"{"system":"\#(system.rawValue)","messages":\#(history.points * Int64(tags)),"seconds":\#(String(format: "%.1f", seconds))}"#)
        }
    }

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sends seed 003's messages at a fixed rate and times their acknowledgement.")
        @Option var system: PeerSystem
        @Option var url: String
        @Option(help: "messages per second") var rate: Int = 10_000
        @Option(help: "messages per request") var batch: Int = 1000
        @Option(help: "seconds") var duration: Double = 60
        @Option var tags: Int = 10_000
        @Option(help: "requests in flight at most") var inFlight: Int = 64
        @Option var seed: UInt64 = 1

        func run() async throws {
            guard rate > 0, batch > 0, duration > 0, tags > 0, inFlight > 0 else { throw ValidationError("every count must be positive") }
            let figures = try await HTTPClient.withLoadClient(connections: inFlight) { client in
                await PeerLoad(system: system, baseURL: url, client: client).run(
                    rate: rate, batch: batch, duration: .seconds(duration), tags: tags, inFlight: inFlight, seed: seed)
            }
            let acknowledgement = LatencySummary(figures.acknowledgement)
            let seconds = figures.elapsed.fractionalSeconds
            print(
                #"{"system":"\#(system.rawValue)","accepted_msg_s":\#(Int(Double(figures.messagesAccepted) / max(seconds, 0.001))),"#
                    + #""requests":\#(figures.requests),"refused":\#(figures.requests - figures.statuses.filter { (200..<300).contains($0.key) }.values.reduce(0, +)),"#
                    + #""late_batches":\#(figures.lateBatches),"post_p50_ms":\#(acknowledgement.p50),"post_p99_ms":\#(acknowledgement.p99)}"#)
        }
    }

    struct Read: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reads 1000-sample windows of random top tags and times them.")
        @Option var target: ReadTarget
        @Option var url: String
        @Option(help: "readers on a schedule, each once per --interval") var clients: Int = 10
        @Option(help: "seconds") var interval: Double = 1
        @Option(help: "read closed-loop with this many workers instead of on a schedule") var closedLoop: Int?
        @Option(help: "seconds") var duration: Double = 60
        @Option var topTags: Int = 100
        @Option var samples: Int = 1000
        @Option(help: "every window this long; default random from 600 to 86400 s, as seed 003") var windowSeconds: Double?
        @Option var seed: UInt64 = 2

        func run() async throws {
            guard clients > 0, interval > 0, duration > 0, topTags > 0, samples > 0, (closedLoop ?? 1) > 0 else {
                throw ValidationError("every count must be positive")
            }
            let windows = PeerReads.Windows(
                topTags: topTags, shortest: .seconds(windowSeconds ?? 600), longest: .seconds(windowSeconds ?? 86_400))
            let figures = try await HTTPClient.withLoadClient(connections: closedLoop ?? clients) { client in
                let reads = PeerReads(reader: PeerReader(target: target, baseURL: url, samples: samples), client: client, windows: windows)
                if let closedLoop { return await reads.closedLoop(workers: closedLoop, duration: .seconds(duration), seed: seed) }
                return await reads.onSchedule(clients: clients, interval: .seconds(interval), duration: .seconds(duration), seed: seed)
            }
            let latency = LatencySummary(figures.latency)
            let lag = LatencySummary(figures.lag)
            let perSecond = Double(figures.latency.totalCount) / max(figures.elapsed.fractionalSeconds, 0.001)
            print(
                #"{"target":"\#(target.rawValue)","answered":\#(figures.latency.totalCount),"errors":\#(figures.errors),"#
                    + #""req_s":\#(String(format: "%.1f", perSecond)),"p50_ms":\#(latency.p50),"p99_ms":\#(latency.p99),"#
                    + #""lag_n":\#(lag.count),"lag_p50_ms":\#(lag.p50),"lag_p99_ms":\#(lag.p99)}"#)
        }
    }

    struct WarmUp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Asks the bridge for each top tag's window once, so the reads that follow find it cached, as a polling dashboard does.")
        @Option var url: String
        @Option var topTags: Int = 100
        @Option var windowSeconds: Double = 86_400

        func run() async throws {
            guard topTags > 0, windowSeconds > 0 else { throw ValidationError("every count must be positive") }
            let windows = PeerReads.Windows(topTags: topTags, shortest: .seconds(windowSeconds), longest: .seconds(windowSeconds))
            try await HTTPClient.withLoadClient(connections: 8) { client in
                await PeerReads(reader: PeerReader(target: .bridge, baseURL: url, samples: 1000), client: client, windows: windows).warmUp()
            }
        }
    }
}
