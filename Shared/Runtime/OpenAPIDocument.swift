import Foundation

/// Builds a service's OpenAPI 3 document, served at `GET /openapi.json`: the service's own operations,
/// plus what every Sluice service answers (`/health`, `/metrics`, `/openapi.json`) and the error shape
/// every 4xx and 5xx uses. Later issues extend the documents with their endpoints.
public enum OpenAPIDocument {
    /// The document as JSON bytes, keys sorted so that it is stable.
    /// - Parameters:
    ///   - paths: the service's own path items, in OpenAPI's shape.
    ///   - schemas: component schemas its operations refer to, besides `Error`.
    ///   - openPaths: path items that need no key (an agent protocol's liveness check).
    public static func json(title: String, summary: String, paths: [String: Any], schemas: [String: Any] = [:], openPaths: [String: Any] = [:]) -> [UInt8] {
        var allPaths = paths.mapValues { item in (item as? [String: Any]).map(authenticated) ?? item }
        allPaths.merge(openPaths) { _, open in open }
        allPaths["/health"] = [
            "get": [
                "summary": "Whether the service can do its job now",
                "operationId": "health",
                "responses": [
                    "200": jsonResponse(
                        "It can", schema: ["type": "object", "required": ["status"], "properties": ["status": ["type": "string", "enum": ["ok"]]]]),
                    "503": jsonResponse(
                        "It cannot, and why",
                        schema: [
                            "type": "object", "required": ["status", "reason"],
                            "properties": ["status": ["type": "string", "enum": ["unavailable"]], "reason": ["type": "string"]],
                        ]),
                ],
            ] as [String: Any]
        ]
        allPaths["/metrics"] = [
            "get": [
                "summary": "Prometheus metrics, text format 0.0.4",
                "operationId": "metrics",
                "responses": ["200": ["description": "The metrics", "content": ["text/plain": ["schema": ["type": "string"]]]]],
            ] as [String: Any]
        ]
        allPaths["/openapi.json"] = [
            "get": [
                "summary": "This document",
                "operationId": "openapi",
                "responses": ["200": jsonResponse("The OpenAPI document", schema: ["type": "object"])],
            ] as [String: Any]
        ]
        var allSchemas = schemas
        allSchemas["Error"] =
            [
                "type": "object", "required": ["error"],
                "properties": ["error": ["type": "string", "description": "What was wrong and how to fix it"]],
            ] as [String: Any]
        let document: [String: Any] = [
            "openapi": "3.0.3",
            "info": ["title": title, "version": "1", "description": summary],
            "paths": allPaths,
            "components": ["schemas": allSchemas, "securitySchemes": securitySchemes],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }

    /// Every data operation sits behind the auth middleware: it names the two schemes and the answers
    /// a refusal gives. The document describes a deployment (`SLUICE_AUTH=required`); with `off` no
    /// credentials are needed. An operation that says `"security": []` is open (a page beside an API).
    static func authenticated(_ pathItem: [String: Any]) -> [String: Any] {
        pathItem.mapValues { value in
            guard var operation = value as? [String: Any] else { return value }
            if let security = operation["security"] as? [Any], security.isEmpty { return operation }
            var responses = operation["responses"] as? [String: Any] ?? [:]
            responses["401"] =
                responses["401"]
                ?? errorResponse(
                    "No, malformed or invalid credentials, a revoked key, a stale X-Sluice-Date or a replayed signature (SLUICE_AUTH=required); `reason` says which",
                    headers: ["WWW-Authenticate": ["description": "The schemes accepted", "schema": ["type": "string"]]]
                )
            responses["403"] = responses["403"] ?? errorResponse("The key has no right to this domain")
            responses["429"] = responses["429"] ?? errorResponse("The key is over SLUICE_AUTH_RATE_PER_KEY", retry: true)
            operation["responses"] = responses
            operation["security"] = [["bearer": [String]()], ["signed": [String]()]]
            return operation
        }
    }

    static var securitySchemes: [String: Any] {
        [
            "bearer": ["type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key_id>.<secret>"],
            "signed": [
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description":
                    "SLUICE-HMAC-SHA256 Credential=<key_id>, Signature=<hex>, with X-Sluice-Date: <unix seconds> (README, \"Keys and signed requests\")",
            ],
        ]
    }

    /// A JSON response with this schema.
    public static func jsonResponse(_ description: String, schema: [String: Any], headers: [String: Any] = [:]) -> [String: Any] {
        var response: [String: Any] = ["description": description, "content": ["application/json": ["schema": schema]]]
        if !headers.isEmpty { response["headers"] = headers }
        return response
    }

    /// A KairosDB error answer, `{"errors": ["…", …]}`.
    public static func kairosErrorResponse(_ description: String) -> [String: Any] {
        jsonResponse(
            description,
            schema: [
                "type": "object", "required": ["errors"],
                "properties": ["errors": ["type": "array", "minItems": 1, "items": ["type": "string"]]],
            ])
    }

    /// An error answer, `{"error": …}`; `retry` adds the `Retry-After` header a 503 carries.
    public static func errorResponse(_ description: String, retry: Bool = false, headers: [String: Any] = [:]) -> [String: Any] {
        var allHeaders = headers
        if retry { allHeaders["Retry-After"] = ["description": "Seconds to wait before sending the same request again", "schema": ["type": "integer"]] }
        return jsonResponse(description, schema: ["$ref": "#/components/schemas/Error"], headers: allHeaders)
    }
}
