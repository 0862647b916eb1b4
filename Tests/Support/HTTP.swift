import Foundation
import SluiceSigning

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

    /// How a test request proves who sends it.
    public enum Credentials: Sendable {
        case none
        case bearer(KeyCredentials)
        /// Signed with SLUICE-HMAC-SHA256 at `date` (now when nil).
        case signed(KeyCredentials, date: Int64? = nil)
        /// An `Authorization` header as given, for malformed ones.
        case header(String)
    }

    /// Any request, with the credentials' headers added (a signed request signs the URL's path, query
    /// and the body exactly as sent).
    public static func send(
        _ method: String, _ url: String, body: Data = Data(), contentType: String = "application/json", credentials: Credentials,
        extraHeaders: [String: String] = [:]
    ) async throws -> Reply {
        let parsed = try parse(url)
        var request = URLRequest(url: parsed)
        request.httpMethod = method
        if !body.isEmpty || method == "POST" {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        switch credentials {
        case .none:
            break
        case .bearer(let key):
            request.setValue(key.bearerAuthorization, forHTTPHeaderField: "Authorization")
        case .signed(let key, let date):
            let components = URLComponents(url: parsed, resolvingAgainstBaseURL: false)
            let parameters = (components?.queryItems ?? []).map { (name: $0.name, value: $0.value ?? "") }
            let signed = RequestSignature.headers(
                credentials: key, method: method, path: components?.percentEncodedPath ?? parsed.path, parameters: parameters,
                body: Array(body), date: date ?? Int64(Date().timeIntervalSince1970)
            )
            request.setValue(signed.authorization, forHTTPHeaderField: "Authorization")
            request.setValue(signed.date, forHTTPHeaderField: RequestSignature.dateHeader)
        case .header(let value):
            request.setValue(value, forHTTPHeaderField: "Authorization")
        }
        for (name, value) in extraHeaders { request.setValue(value, forHTTPHeaderField: name) }
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
