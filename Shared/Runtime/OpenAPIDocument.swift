import Foundation

/// Builds a service's OpenAPI 3 document, served at `GET /openapi.json`: the service's own operations,
/// plus what every Sluice service answers (`/health`, `/metrics`, `/openapi.json`) and the error shape
/// every 4xx and 5xx uses. Later issues extend the documents with their endpoints.
public enum OpenAPIDocument {
    /// The document as JSON bytes, keys sorted so that it is stable.
    /// - Parameters:
    ///   - paths: the service's own path items, in OpenAPI's shape.
    ///   - schemas: component schemas its operations refer to, besides `Error`.
    public static func json(title: String, summary: String, paths: [String: Any], schemas: [String: Any] = [:]) -> [UInt8] {
        var allPaths = paths
        allPaths["/health"] = ["get": [
            "summary": "Whether the service can do its job now",
            "operationId": "health",
            "responses": [
                "200": jsonResponse("It can", schema: ["type": "object", "required": ["status"], "properties": ["status": ["type": "string", "enum": ["ok"]]]]),
                "503": jsonResponse("It cannot, and why", schema: [
                    "type": "object", "required": ["status", "reason"],
                    "properties": ["status": ["type": "string", "enum": ["unavailable"]], "reason": ["type": "string"]],
                ]),
            ],
        ] as [String: Any]]
        allPaths["/metrics"] = ["get": [
            "summary": "Prometheus metrics, text format 0.0.4",
            "operationId": "metrics",
            "responses": ["200": ["description": "The metrics", "content": ["text/plain": ["schema": ["type": "string"]]]]],
        ] as [String: Any]]
        allPaths["/openapi.json"] = ["get": [
            "summary": "This document",
            "operationId": "openapi",
            "responses": ["200": jsonResponse("The OpenAPI document", schema: ["type": "object"])],
        ] as [String: Any]]
        var allSchemas = schemas
        allSchemas["Error"] = [
            "type": "object", "required": ["error"],
            "properties": ["error": ["type": "string", "description": "What was wrong and how to fix it"]],
        ] as [String: Any]
        let document: [String: Any] = [
            "openapi": "3.0.3",
            "info": ["title": title, "version": "1", "description": summary],
            "paths": allPaths,
            "components": ["schemas": allSchemas],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }

    /// A JSON response with this schema.
    public static func jsonResponse(_ description: String, schema: [String: Any], headers: [String: Any] = [:]) -> [String: Any] {
        var response: [String: Any] = ["description": description, "content": ["application/json": ["schema": schema]]]
        if !headers.isEmpty { response["headers"] = headers }
        return response
    }

    /// An error answer, `{"error": …}`; `retry` adds the `Retry-After` header a 503 carries.
    public static func errorResponse(_ description: String, retry: Bool = false) -> [String: Any] {
        jsonResponse(
            description, schema: ["$ref": "#/components/schemas/Error"],
            headers: retry ? ["Retry-After": ["description": "Seconds to wait before sending the same request again", "schema": ["type": "integer"]]] : [:]
        )
    }
}
