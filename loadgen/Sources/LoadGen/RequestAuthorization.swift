import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceSigning

/// How the load generators authenticate when the services require keys: a bearer token, or every
/// request signed (which costs a SHA-256 of the body and an HMAC per request, on both sides).
public struct RequestAuthorization: Sendable {
    public var credentials: KeyCredentials
    public var signs: Bool

    public init(credentials: KeyCredentials, signs: Bool) {
        self.credentials = credentials
        self.signs = signs
    }

    /// From `--key-id`/`--secret`, else `SLUICE_KEY_ID`/`SLUICE_KEY_SECRET`, else the JSON file
    /// `SLUICE_KEY_FILE` names (`{"key_id": …, "secret": …}`, as `sluice-admin keys create` prints and
    /// `scripts/run-local` writes); nil when none is given.
    public static func from(keyID: String?, secret: String?, signs: Bool) throws -> RequestAuthorization? {
        let environment = ProcessInfo.processInfo.environment
        var id = keyID ?? environment["SLUICE_KEY_ID"]
        var secret = secret ?? environment["SLUICE_KEY_SECRET"]
        if id == nil, secret == nil, let path = environment["SLUICE_KEY_FILE"], !path.isEmpty {
            struct KeyFile: Decodable {
                var key_id: String
                var secret: String
            }
            guard let data = FileManager.default.contents(atPath: path), let file = try? JSONDecoder().decode(KeyFile.self, from: data) else {
                throw UnreadableKeyFile(path: path)
            }
            (id, secret) = (file.key_id, file.secret)
        }
        switch (id, secret) {
        case (nil, nil): return nil
        case (let id?, let secret?) where !id.isEmpty && !secret.isEmpty:
            return RequestAuthorization(credentials: KeyCredentials(keyID: id, secret: secret), signs: signs)
        default: throw MissingPart()
        }
    }

    public struct UnreadableKeyFile: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "SLUICE_KEY_FILE: \(path) is not a JSON object with key_id and secret" }
    }

    public struct MissingPart: Error, CustomStringConvertible {
        public var description: String { "give both --key-id and --secret (or SLUICE_KEY_ID and SLUICE_KEY_SECRET), or neither" }
    }

    /// A request to `baseURL + path` with `parameters` as its query (in canonical form, so the signature
    /// covers exactly what is sent) and `body`, with the headers that authenticate it.
    public func request(method: HTTPMethod, baseURL: String, path: String, parameters: [(name: String, value: String)] = [], body: ByteBuffer? = nil)
        -> HTTPClientRequest
    {
        Self.request(method: method, baseURL: baseURL, path: path, parameters: parameters, body: body, authorization: self)
    }

    /// As above, with or without credentials.
    public static func request(
        method: HTTPMethod, baseURL: String, path: String, parameters: [(name: String, value: String)] = [], body: ByteBuffer? = nil,
        authorization: RequestAuthorization?
    ) -> HTTPClientRequest {
        let query = CanonicalQuery.encode(parameters: parameters)
        var request = HTTPClientRequest(url: baseURL + path + (query.isEmpty ? "" : "?" + query))
        request.method = method
        if let body { request.body = .bytes(body) }
        guard let authorization else { return request }
        if authorization.signs {
            let signed = RequestSignature.headers(
                credentials: authorization.credentials, method: method.rawValue, path: path, parameters: parameters,
                body: body.map { Array($0.readableBytesView) } ?? [], date: Int64(Date().timeIntervalSince1970)
            )
            request.headers.add(name: "Authorization", value: signed.authorization)
            request.headers.add(name: RequestSignature.dateHeader, value: signed.date)
        } else {
            request.headers.add(name: "Authorization", value: authorization.credentials.bearerAuthorization)
        }
        return request
    }
}
