import SluiceRuntime

/// The bridge's contract, served at `GET /openapi.json` (README, "bridge").
enum BridgeOpenAPI {
    static var window: [String: Any] {
        [
            "summary": "A window of one or more series on a fixed grid, from the cache",
            "operationId": "window",
            "requestBody": [
                "required": true,
                "content": ["application/json": ["schema": ["$ref": "#/components/schemas/WindowRequest"]]],
            ] as [String: Any],
            "responses": [
                "200": OpenAPIDocument.jsonResponse("The window", schema: ["$ref": "#/components/schemas/WindowResult"]),
                "400": OpenAPIDocument.errorResponse("The request is not a window request, or a field is wrong"),
                "404": OpenAPIDocument.errorResponse("A tag was never stored (`unknown_tags` names them)"),
            ],
        ]
    }

    static let document = OpenAPIDocument.json(
        title: "Sluice bridge",
        summary: "Seed 000's sliding windows, answered from a cache the writer's change feed keeps fresh.",
        paths: [
            "/v1/window": ["post": window],
            "/": ["post": window.merging(["operationId": "windowAtRoot"]) { $1 }],
        ],
        schemas: [
            "WindowRequest": [
                "type": "object",
                "required": ["start_time_ms"],
                "properties": [
                    "tag": ["type": "string", "minLength": 1, "nullable": true],
                    "tags": ["type": "array", "minItems": 1, "maxItems": 100, "items": ["type": "string", "minLength": 1], "nullable": true],
                    "domain": ["type": "string", "default": "default", "nullable": true],
                    "start_time_ms": ["type": "integer", "format": "int64", "description": "ms since the epoch; negative: that many ms before now"],
                    "end_time_ms": [
                        "type": "integer", "format": "int64", "nullable": true, "description": "ms since the epoch (default now); negative: before now",
                    ],
                    "resolution_hint_ms": ["type": "integer", "format": "int64", "minimum": 1, "nullable": true],
                ] as [String: Any],
                "description": "Exactly one of tag and tags (null counts as absent).",
                "anyOf": [["required": ["tag"]], ["required": ["tags"]]],
            ] as [String: Any],
            "WindowResult": [
                "type": "object",
                "required": ["start_time_ms", "end_time_ms", "resolution_ms", "metadata", "data", "missing_timestamps"],
                "properties": [
                    "start_time_ms": ["type": "integer", "format": "int64"],
                    "end_time_ms": ["type": "integer", "format": "int64"],
                    "earliest_result_ms": ["type": "integer", "format": "int64", "nullable": true],
                    "latest_result_ms": ["type": "integer", "format": "int64", "nullable": true],
                    "resolution_ms": ["type": "integer", "format": "int64"],
                    "metadata": [
                        "type": "object",
                        "additionalProperties": [
                            "type": "object", "properties": ["domain": ["type": "string"], "tag": ["type": "string"], "values": ["type": "integer"]],
                        ] as [String: Any],
                    ],
                    "data": [
                        "type": "object",
                        "additionalProperties": [
                            "type": "array", "description": "[time_ms, [values…]] per grid point",
                            "items": ["type": "array", "minItems": 2, "maxItems": 2],
                        ] as [String: Any],
                    ],
                    "missing_timestamps": ["type": "array", "items": ["type": "integer", "format": "int64"]],
                ] as [String: Any],
            ] as [String: Any],
        ]
    )
}
