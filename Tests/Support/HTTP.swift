import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A minimal HTTP client for tests: one request, the status and the body.
public enum HTTP {
    public struct Reply: Sendable {
        public var status: Int
        public var body: Data
        public var headers: [String: String]

        public var text: String { String(decoding: body, as: UTF8.self) }

        public func json() throws -> Any {
            try JSONSerialization.jsonObject(with: body)
        }
    }

    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        return URLSession(configuration: configuration)
    }()

    public static func get(_ url: String) async throws -> Reply {
        try await send(URLRequest(url: try parse(url)))
    }

    public static func post(_ url: String, body: Data, contentType: String = "application/json") async throws -> Reply {
        var request = URLRequest(url: try parse(url))
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        return try await send(request)
    }

    /// One sample from a service's `/metrics`, by its exact name and labels as printed
    /// (e.g. `sluice_bridge_evictions_total{reason="idle"}`); nil when it is not there yet.
    public static func metric(_ serviceURL: String, _ series: String) async throws -> Double? {
        let reply = try await get(serviceURL + "/metrics")
        for line in reply.text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    struct BadURL: Error {
        var url: String
    }

    private static func parse(_ url: String) throws -> URL {
        guard let parsed = URL(string: url) else { throw BadURL(url: url) }
        return parsed
    }

    private static func send(_ request: URLRequest) async throws -> Reply {
        let (data, response) = try await session.data(for: request)
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http?.allHeaderFields ?? [:] {
            headers[String(describing: key).lowercased()] = String(describing: value)
        }
        return Reply(status: http?.statusCode ?? 0, body: data, headers: headers)
    }
}
