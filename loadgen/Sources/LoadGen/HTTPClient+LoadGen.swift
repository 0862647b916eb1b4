import AsyncHTTPClient
import NIOCore

extension HTTPClient {
    /// A client with one keep-alive connection per request in flight. AsyncHTTPClient's default of 8
    /// connections per host queued the rest inside the client, which inflated measured ingest latency and
    /// capped one-message-per-request runs at ~1,400 req/s.
    public static func forLoad(connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs `body` with a load client and shuts it down afterwards.
    public static func withLoadClient<T: Sendable>(connections: Int, _ body: (HTTPClient) async throws -> T) async throws -> T {
        let client = HTTPClient.forLoad(connections: connections)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
