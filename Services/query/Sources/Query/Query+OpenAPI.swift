import SluiceRuntime

/// The query service's contract, served at `GET /openapi.json` (README, "query").
enum QueryOpenAPI {
    static let document = OpenAPIDocument.json(
        title: "Sluice query",
        summary: "As-of samples of one series over a window (sample k of N stands at start + k·(end−start)/N), or an aggregate per time bucket.",
        paths: [
            "/api": ["get": [
                "summary": "As-of samples of one series, or an aggregate (fn) per bucket of step ns",
                "operationId": "samples",
                "parameters": [
                    parameter("tag", required: true, ["type": "string", "minLength": 1]),
                    parameter("start", required: true, ["type": "integer", "format": "int64"], "ns since the epoch; negative: that many ns before now"),
                    parameter("end", required: false, ["type": "integer", "format": "int64"], "ns since the epoch (default now); negative: before now"),
                    parameter("samples", required: false, ["type": "integer", "minimum": 1, "maximum": 10000, "default": 1000]),
                    parameter("domain", required: false, ["type": "string", "default": "default"]),
                    parameter("measured_at", required: false, ["type": "boolean", "default": false], "also name each sample's measurement time"),
                    parameter("fn", required: false, ["type": "string", "enum": AggregateFunction.allCases.map(\.rawValue), "default": "asof"],
                              "asof: the value as of each sample time; otherwise the aggregate per bucket [b, b+step) and value index"),
                    parameter("step", required: false, ["type": "integer", "format": "int64", "minimum": 1],
                              "bucket width in ns, aligned to the epoch (aggregates only; default: the smallest of 1 s … 1 d giving at most `samples` buckets)"),
                    parameter("fill", required: false, ["type": "string", "enum": Fill.allCases.map(\.rawValue), "default": "null"],
                              "empty buckets (aggregates only): null values, left out, the previous bucket's, or interpolated"),
                ],
                "responses": [
                    "200": OpenAPIDocument.jsonResponse("The samples", schema: ["$ref": "#/components/schemas/Samples"]),
                    "400": OpenAPIDocument.errorResponse("A parameter is missing or wrong, or the window is shorter than SLUICE_QUERY_MIN_WINDOW_MS"),
                    "404": OpenAPIDocument.errorResponse("No measurement was ever stored for this tag in this domain"),
                    "503": OpenAPIDocument.errorResponse("Too many requests at once, a statement outlasted its timeout, or PostgreSQL does not answer", retry: true),
                ],
            ] as [String: Any]],
        ],
        schemas: [
            "Samples": [
                "type": "object",
                "required": ["tagName", "start", "end", "samples"],
                "properties": [
                    "tagName": ["type": "string"],
                    "start": ["type": "integer", "format": "int64"],
                    "end": ["type": "integer", "format": "int64"],
                    "fn": ["type": "string", "description": "present for aggregates"],
                    "step": ["type": "integer", "format": "int64", "description": "present for aggregates: the bucket width in ns"],
                    "fill": ["type": "string", "description": "present for aggregates"],
                    "samples": ["type": "array", "items": [
                        "type": "object", "required": ["time", "values"],
                        "properties": [
                            "time": ["type": "integer", "format": "int64"],
                            "values": ["type": "array", "nullable": true, "items": ["type": "number", "nullable": true]],
                            "measuredAt": ["type": "integer", "format": "int64"],
                        ] as [String: Any],
                    ] as [String: Any]],
                ] as [String: Any],
            ] as [String: Any],
        ]
    )

    private static func parameter(_ name: String, required: Bool, _ schema: [String: Any], _ description: String = "") -> [String: Any] {
        var parameter: [String: Any] = ["name": name, "in": "query", "required": required, "schema": schema]
        if !description.isEmpty { parameter["description"] = description }
        return parameter
    }
}
