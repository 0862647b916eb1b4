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
