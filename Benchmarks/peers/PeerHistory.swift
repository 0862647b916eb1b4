import AsyncHTTPClient
import Foundation
import LoadGen
import NIOCore

/// The history every system holds before the run, the rows `scripts/benchmark` puts in PostgreSQL:
/// tags `tag-00001`…`tag-NNNNN`, one point per `step` back from `end` over `span`, every value of point
/// `i` (counting back from `end`) equal to `i mod 1000`. Written oldest first, as Prometheus accepts
/// only recent samples beside its newest.
struct PeerHistory: Sendable {
    var tags: Int
    var end: Int64
    var span: Int64
    var step: Int64

    var points: Int64 { span / step }

    /// Writes it in batches of `batch` messages, `concurrency` requests at a time; throws on a refusal.
    func write(to baseURL: String, system: PeerSystem, batch: Int, concurrency: Int, client: HTTPClient) async throws {
        let perBatch = max(1, batch / tags)
        let points = self.points
        let batches = (points + Int64(perBatch) - 1) / Int64(perBatch)
        var reported: Int64 = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            var encoder = PeerEncoder(system: system)
            for number in 0..<batches {
                if number >= Int64(concurrency) { try await group.next() }
                // Oldest first: an index counts back from `end`, so the largest comes first.
                let oldest = points - 1 - number * Int64(perBatch)
                let indices = stride(from: oldest, to: max(-1, oldest - Int64(perBatch)), by: -1)
                var messages: [MessageSource.Message] = []
                for index in indices {
                    let values = [Double](repeating: Double(index % 1000), count: 10)
                    for tag in 1...tags {
                        messages.append(.init(tag: TagPopularity.name(ofTag: tag), time: end - index * step, values: values))
                    }
                }
                let write = encoder.encode(messages)
                group.addTask {
                    let response = try await client.execute(write.request(to: baseURL), timeout: .seconds(300))
                    let answer = try await response.body.collect(upTo: 1 << 20)
                    guard (200..<300).contains(Int(response.status.code)) else {
                        throw HistoryRefused(status: Int(response.status.code), answer: String(buffer: answer))
                    }
                }
                let done = (number + 1) * 100 / batches
                if done >= reported + 10 {
                    reported = done
                    FileHandle.standardError.write(Data("[peers] \(system.rawValue): history \(done)% written\n".utf8))
                }
            }
            try await group.waitForAll()
        }
    }
}

struct HistoryRefused: Error, CustomStringConvertible {
    var status: Int
    var answer: String
    var description: String { "a history batch was refused: \(status) \(answer.prefix(300))" }
}
