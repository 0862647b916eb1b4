// sluice-producer: offers seed 003's test data to ingest at a target rate and keeps a ledger of what was accepted.
import ArgumentParser
import AsyncHTTPClient
import Foundation
import LoadGen
import UnixSignals

@main
struct ProducerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-producer",
        abstract: "Offers seed 003's test data to ingest at a target rate (open loop) and writes a ledger of what was accepted."
    )

    @Option(help: "ingest base URL") var url = ProcessInfo.processInfo.environment["SLUICE_INGEST_URL"] ?? "http://127.0.0.1:8080"
    @Option(help: "rate profile: 'spec', 'constant:RATE', or 'RATE@SECONDS,…'") var profile = "constant:10000"
    @Option(help: "seconds to run") var duration: Double = 60
    @Option(help: "number of tags") var tags = 10_000
    @Option(help: "values per message") var values = 10
    @Option(help: "messages per request; 1 sends single objects like seed 003's wrk test") var batch = 100
    @Option(help: "body format for batches: array or ndjson") var format = "array"
    @Option(help: "requests in flight at most") var concurrency = 64
    @Option(help: "random seed") var seed: UInt64 = 1
    @Option(help: "where to write the ledger (JSON)") var ledger = "producer-ledger.json"
    @Option(help: "seconds between progress lines") var progress: Double = 5
    @OptionGroup var key: KeyOptions

    mutating func run() async throws {
        guard let schedule = RateSchedule.parse(profile) else {
            throw ValidationError("--profile '\(profile)' is not 'spec', 'constant:RATE' or 'RATE@SECONDS,…'")
        }
        guard let bodyFormat = ProducerConfiguration.Format(rawValue: format) else { throw ValidationError("--format must be array or ndjson") }
        guard duration > 0, duration <= 86_400 else { throw ValidationError("--duration must be 0–86400 seconds") }
        guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be 1–10000") }
        guard (1...64).contains(values) else { throw ValidationError("--values must be 1–64") }
        guard tags >= 1, concurrency >= 1 else { throw ValidationError("--tags and --concurrency must be at least 1") }
        let configuration = ProducerConfiguration(
            url: url, schedule: schedule, duration: .milliseconds(Int64(duration * 1000)), tags: tags, valuesPerMessage: values,
            seed: seed, batchSize: batch, format: bodyFormat, concurrency: concurrency, progressInterval: .milliseconds(Int64(progress * 1000)),
            authorization: try key.authorization()
        )
        print("[producer] \(schedule) for \(duration) s to \(url), \(batch) per request, \(concurrency) in flight")
        let statistics = try await HTTPClient.withLoadClient(connections: concurrency) { client in
            let producer = ProducerRun(configuration: configuration, client: client)
            let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
            return await withTaskGroup(of: ProducerStatistics?.self) { group in
                group.addTask {
                    for await signal in signals {
                        print("[producer] \(signal): no more offers; waiting for the requests in flight")
                        producer.stop()
                        break
                    }
                    return nil
                }
                group.addTask { await producer.run() }
                var statistics: ProducerStatistics?
                while let finished = await group.next() {
                    if let finished {
                        statistics = finished
                        group.cancelAll()
                    }
                }
                return statistics
            }
        }
        guard let statistics else { throw ExitCode(1) }  // run() always returns; the signal task never does
        try statistics.ledger.write(to: URL(fileURLWithPath: ledger))
        for line in statistics.summaryLines { print("[producer] \(line)") }
        print("[producer] ledger: \(ledger) (\(statistics.ledger.entries.count) tags, \(statistics.ledger.total) messages)")
        if statistics.offered < statistics.due * 99 / 100 {
            print("[producer] could not hold the rate: offered \(statistics.offered) of \(statistics.due) messages due")
        }
        if statistics.failed > 0 || statistics.rejected > 0 { throw ExitCode(1) }
    }
}
