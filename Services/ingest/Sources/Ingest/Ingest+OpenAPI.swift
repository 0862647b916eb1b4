import SluiceRuntime

/// Ingest's contract, served at `GET /openapi.json` (README, "ingest").
enum IngestOpenAPI {
    static let document = OpenAPIDocument.json(
        title: "Sluice ingest",
        summary: "Accepts measurements and publishes them to Kafka; 202 only once Kafka acknowledged every one.",
        paths: [
            "/save": ["post": [
                "summary": "Store measurements: one object, a JSON array of objects, or NDJSON",
                "operationId": "save",
                "requestBody": [
                    "required": true,
                    "content": [
                        "application/json": ["schema": ["oneOf": [
                            ["$ref": "#/components/schemas/Measurement"],
                            ["type": "array", "minItems": 1, "items": ["$ref": "#/components/schemas/Measurement"]],
                        ]]],
                        "application/x-ndjson": ["schema": ["type": "string", "description": "One Measurement object per line"]],
                    ],
                ] as [String: Any],
                "responses": [
                    "202": OpenAPIDocument.jsonResponse("Kafka acknowledged every message", schema: [
                        "type": "object", "required": ["accepted"], "properties": ["accepted": ["type": "integer", "minimum": 1]],
                    ]),
                    "400": OpenAPIDocument.errorResponse("The body is not JSON or NDJSON, holds no messages, or holds an invalid one (then `invalid` names the first ten by index); nothing was accepted"),
                    "413": OpenAPIDocument.errorResponse("The body is larger than SLUICE_INGEST_MAX_BODY_BYTES"),
                    "503": OpenAPIDocument.errorResponse("The writer is too far behind, ingest holds as many bodies as it may, or Kafka did not acknowledge every message: send the same request again", retry: true),
                ],
            ] as [String: Any]],
        ],
        schemas: [
            "Measurement": [
                "type": "object",
                "required": ["time", "tag", "values"],
                "properties": [
                    "time": ["type": "integer", "format": "int64", "minimum": 0, "description": "Nanoseconds since the Unix epoch"],
                    "tag": ["type": "string", "minLength": 1, "description": "1–255 bytes of UTF-8; no control characters or invisible direction marks"],
                    "values": ["type": "array", "minItems": 1, "maxItems": 64, "items": ["type": "number"]],
                    "domain": ["type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$", "default": "default"],
                    "labels": [
                        "type": "object", "maxProperties": 32,
                        "additionalProperties": ["type": "string", "minLength": 1],
                        "description": "Label names as Prometheus allows them ([A-Za-z_][A-Za-z0-9_]*); the series is then addressed as tag{k=\"v\",…} with keys sorted",
                    ] as [String: Any],
                ] as [String: Any],
            ] as [String: Any],
        ]
    )
}
