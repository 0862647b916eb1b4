import AsyncHTTPClient
import SluiceModel

/// Asks once for each top tag's window of `window` ns ending now, eight at a time, recording nothing:
/// the bridge then answers the measured reads from its cache, as it answers a dashboard that polls.
public func askEachTopTagOnce(
    topTags: Int, window: Int64, client: HTTPClient, request: @escaping @Sendable (_ tag: String, _ start: Int64, _ end: Int64) -> HTTPClientRequest
) async {
    await withDiscardingTaskGroup { group in
        for lane in 0..<min(8, topTags) {
            group.addTask {
                for tag in stride(from: 1 + lane, through: topTags, by: 8) {
                    let end = WallClock.nowNanoseconds()
                    _ = try? await client.execute(request(TagPopularity.name(ofTag: tag), end - window, end), timeout: .seconds(60))
                        .body.collect(upTo: 64 << 20)
                }
            }
        }
    }
}
