import SluiceModel
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

    /// A file of the chart page, `type` its content type.
    static func page(_ summary: String, id: String, type: String) -> [String: Any] {
        [
            "summary": summary,
            "operationId": id,
            "security": [[String: Any]](),
            "responses": [
                "200": ["description": summary, "content": [type: ["schema": ["type": "string"]]]] as [String: Any],
                "404": OpenAPIDocument.errorResponse("Debian's libjs-dygraphs is not installed where the bridge runs"),
            ],
        ]
    }

    static let document = OpenAPIDocument.json(
        title: "Sluice bridge",
        summary: "Seed 000's sliding windows, answered from a cache the writer's change feed keeps fresh.",
        paths: [
            "/v1/window": ["post": window],
            "/": [
                "post": window.merging(["operationId": "windowAtRoot"]) { $1 },
                "get": page("The chart page: find series, chart their windows, kept live", id: "chartPage", type: "text/html"),
            ],
            "/series": ["get": OpenAPIDocument.seriesSearch(summaryPrefix: "The query service's search, through the bridge for the chart page. ")],
            "/assets/sluice-chart.js": ["get": page("The chart page's script", id: "chartScript", type: "text/javascript")],
            "/assets/dygraph.min.js": ["get": page("dygraphs, from Debian's libjs-dygraphs", id: "dygraphsScript", type: "text/javascript")],
            "/assets/dygraph.min.css": ["get": page("dygraphs' style sheet, from Debian's libjs-dygraphs", id: "dygraphsStyle", type: "text/css")],
        ],
        schemas: [
            "SeriesPage": OpenAPIDocument.seriesPageSchema,
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
                    "fn": [
                        "type": "string", "enum": AggregateFunction.names, "default": AggregateFunction.asOfName, "nullable": true,
                        "description": "asof: the value as of each grid point; otherwise the aggregate over the step that ends at each point",
                    ],
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
                    "fn": ["type": "string", "enum": AggregateFunction.allCases.map(\.rawValue), "description": "present for aggregates"],
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
