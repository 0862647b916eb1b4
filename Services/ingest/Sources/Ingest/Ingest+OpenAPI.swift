import SluiceModel
import SluiceRuntime

/// Ingest's contract, served at `GET /openapi.json` (README, "ingest").
enum IngestOpenAPI {
    static let document = OpenAPIDocument.json(
        title: "Sluice ingest",
        summary: "Accepts measurements and publishes them to Kafka; 202 only once Kafka acknowledged every one.",
        paths: [
            "/save": [
                "post": [
                    "summary": "Store measurements: one object, a JSON array of objects, or NDJSON",
                    "operationId": "save",
                    "requestBody": [
                        "required": true,
                        "content": [
                            "application/json": [
                                "schema": [
                                    "oneOf": [
                                        ["$ref": "#/components/schemas/Measurement"],
                                        ["type": "array", "minItems": 1, "items": ["$ref": "#/components/schemas/Measurement"]],
                                    ]
                                ]
                            ],
                            "application/x-ndjson": ["schema": ["type": "string", "description": "One Measurement object per line"]],
                        ],
                    ] as [String: Any],
                    "responses": [
                        "202": OpenAPIDocument.jsonResponse(
                            "Kafka acknowledged every message",
                            schema: [
                                "type": "object", "required": ["accepted"], "properties": ["accepted": ["type": "integer", "minimum": 1]],
                            ]),
                        "400": OpenAPIDocument.errorResponse(
                            "The body is not JSON or NDJSON, holds no messages, or holds an invalid one (then `invalid` names the first ten by index); nothing was accepted"
                        ),
                        "413": OpenAPIDocument.errorResponse("The body is larger than SLUICE_INGEST_MAX_BODY_BYTES"),
                        "503": OpenAPIDocument.errorResponse(
                            "The writer is too far behind, ingest holds as many bodies as it may, or Kafka did not acknowledge every message: send the same request again",
                            retry: true),
                    ],
                ] as [String: Any]
            ],
            "/api/v1/datapoints": ["post": kairosWrite(operationId: "kairosWrite")],
            "/api/v1/{domain}/datapoints": ["post": kairosWrite(operationId: "kairosWriteInDomain", domainInPath: true)],
            "/api/v1/write": [
                "post": [
                    "summary":
                        "Prometheus remote write 1.0: each series one Sluice series, each sample one measurement; samples Sluice cannot store are skipped and counted",
                    "operationId": "prometheusRemoteWrite",
                    "parameters": [
                        ["name": "domain", "in": "query", "schema": ["type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$", "default": "default"]]
                    ],
                    "requestBody": [
                        "required": true,
                        "content": [
                            "application/x-protobuf": [
                                "schema": ["type": "string", "format": "binary", "description": "A snappy block-compressed prometheus.WriteRequest"]
                            ]
                        ],
                    ] as [String: Any],
                    "responses": [
                        "204": ["description": "Kafka acknowledged every storable sample"],
                        "400": OpenAPIDocument.errorResponse("The body is not snappy, not a WriteRequest, or the domain is invalid; nothing was written"),
                        "413": OpenAPIDocument.errorResponse("The body (inflated) is larger than SLUICE_INGEST_MAX_BODY_BYTES"),
                        "415": OpenAPIDocument.errorResponse("Remote write 2.0, which is not served: send 1.0"),
                        "503": OpenAPIDocument.errorResponse(
                            "The writer is too far behind, ingest holds as many bodies as it may, or Kafka did not acknowledge every sample: send the same request again",
                            retry: true),
                    ],
                ] as [String: Any]
            ],
            "/flux/metric_data": [
                "get": [
                    "summary": "Skyline Flux: store one metric value (seconds, at most SLUICE_FLUX_MAX_AGE_S old and 60 s ahead)",
                    "operationId": "fluxMetricData",
                    "parameters": [
                        ["name": "metric", "in": "query", "required": true, "schema": ["type": "string", "pattern": "^[A-Za-z0-9+%._/=:;-]{1,255}$"]],
                        ["name": "timestamp", "in": "query", "required": true, "schema": ["type": "string"], "description": "Seconds since 1970"],
                        ["name": "value", "in": "query", "required": true, "schema": ["type": "string"]],
                        ["name": "key", "in": "query", "schema": ["type": "string"], "description": "A Sluice key, <key_id>.<secret>"],
                        ["name": "fill", "in": "query", "schema": ["type": "string"], "description": "Accepted for Flux's clients; changes nothing"],
                        ["name": "domain", "in": "query", "schema": ["type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"]],
                    ] as [[String: Any]],
                    "responses": fluxResponses,
                ] as [String: Any]
            ],
            "/flux/metric_data_post": [
                "post": [
                    "summary": "Skyline Flux: store one metric or several; test: true checks and stores nothing",
                    "operationId": "fluxMetricDataPost",
                    "requestBody": ["required": true, "content": ["application/json": ["schema": ["$ref": "#/components/schemas/FluxPost"]]]] as [String: Any],
                    "responses": fluxResponses,
                ] as [String: Any]
            ],
            "/flux/populate_metric": [
                "post": [
                    "summary": "Skyline Flux: backfill one metric's history, without the age limit",
                    "operationId": "fluxPopulateMetric",
                    "requestBody": ["required": true, "content": ["application/json": ["schema": ["$ref": "#/components/schemas/FluxPopulate"]]]]
                        as [String: Any],
                    "responses": fluxResponses,
                ] as [String: Any]
            ],
            "/write": [
                "post": influxWrite(
                    operationId: "influxWriteV1", domainParameter: "db", extraParameters: ["rp", "u", "p"],
                    precisions: ["ns", "n", "us", "u", "ms", "s", "m", "h"])
            ],
            "/api/v2/write": [
                "post": influxWrite(
                    operationId: "influxWriteV2", domainParameter: "bucket", extraParameters: ["org", "orgID"], precisions: ["ns", "us", "ms", "s"])
            ],
        ],
        schemas: [
            "FluxPost": [
                "type": "object",
                "properties": [
                    "key": ["type": "string"], "metric": ["type": "string"], "timestamp": fluxScalar, "value": fluxScalar,
                    "metrics": [
                        "type": "array",
                        "items": [
                            "type": "object", "properties": ["metric": ["type": "string"], "timestamp": fluxScalar, "value": fluxScalar] as [String: Any],
                        ] as [String: Any],
                    ],
                    "test": ["type": "boolean"], "domain": ["type": "string"],
                ] as [String: Any],
            ] as [String: Any],
            "FluxPopulate": [
                "type": "object", "required": ["metric", "datapoints"],
                "properties": [
                    "key": ["type": "string"], "metric": ["type": "string"], "domain": ["type": "string"],
                    "datapoints": ["type": "array", "items": ["type": "array", "minItems": 2, "maxItems": 2, "items": fluxScalar]],
                ] as [String: Any],
            ] as [String: Any],
            "KairosMetric": [
                "type": "object",
                "required": ["name"],
                "properties": [
                    "name": ["type": "string", "minLength": 1],
                    "tags": ["type": "object", "additionalProperties": ["type": "string"]],
                    "datapoints": [
                        "type": "array", "items": ["type": "array", "minItems": 2, "maxItems": 2, "items": ["type": "number"]],
                        "description": "[milliseconds since the epoch, value] pairs",
                    ],
                    "timestamp": ["type": "integer", "format": "int64", "description": "with value, instead of datapoints"],
                    "value": ["type": "number"],
                ] as [String: Any],
            ] as [String: Any],
            "Measurement": [
                "type": "object",
                "required": ["time", "tag", "values"],
                "properties": [
                    "time": [
                        "type": "integer", "format": "int64", "minimum": 0, "maximum": MeasurementLimits.latestTime,
                        "description": "Nanoseconds since the Unix epoch, at most 2262-04-10",
                    ],
                    "tag": ["type": "string", "minLength": 1, "description": "1–255 bytes of UTF-8; no control characters or invisible direction marks"],
                    "values": ["type": "array", "minItems": 1, "maxItems": 64, "items": ["type": "number"]],
                    "domain": ["type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$", "default": "default"],
                    "labels": [
                        "type": "object", "maxProperties": 32,
                        "additionalProperties": ["type": "string", "minLength": 1],
                        "description":
                            "Label names as Prometheus allows them ([A-Za-z_][A-Za-z0-9_]*); the series is then addressed as tag{k=\"v\",…} with keys sorted",
                    ] as [String: Any],
                ] as [String: Any],
            ] as [String: Any],
        ],
        openPaths: [
            "/ping": [
                "get": [
                    "summary": "InfluxDB's liveness check, for its clients and Telegraf",
                    "operationId": "influxPing",
                    "responses": ["204": ["description": "Ingest is there (X-Influxdb-Version names the InfluxDB API it speaks)"]],
                ] as [String: Any]
            ]
        ]
    )

    /// A Flux number: a JSON number or a string of one.
    private static var fluxScalar: [String: Any] { ["oneOf": [["type": "number"], ["type": "string"]]] }

    /// Flux's answers, every refusal `{"code", "message"}`.
    private static var fluxResponses: [String: Any] {
        let error: ([String: Any]) -> [String: Any] = { extra in
            var response = OpenAPIDocument.jsonResponse(
                extra["description"] as? String ?? "",
                schema: [
                    "type": "object", "required": ["code", "message"],
                    "properties": ["code": ["type": "integer"], "message": ["type": "string"]],
                ])
            if let headers = extra["headers"] { response["headers"] = headers }
            return response
        }
        return [
            "204": ["description": "Kafka acknowledged every value (or, with test: true, every value is acceptable)"],
            "400": error(["description": "A metric, timestamp or value is refused (the message names it); nothing was stored"]),
            "401": error(["description": "No key, or a key that is not valid"]),
            "403": error(["description": "The key may not write the domain"]),
            "413": error(["description": "The body is larger than SLUICE_INGEST_MAX_BODY_BYTES"]),
            "429": error(["description": "The key is over SLUICE_AUTH_RATE_PER_KEY", "headers": ["Retry-After": ["schema": ["type": "integer"]]]]),
            "503": error([
                "description": "The writer is behind or Kafka did not acknowledge: send the same request again",
                "headers": ["Retry-After": ["schema": ["type": "integer"]]],
            ]),
        ]
    }

    /// InfluxDB's 1.x or 2.x write: line protocol, each numeric field one series.
    private static func influxWrite(operationId: String, domainParameter: String, extraParameters: [String], precisions: [String]) -> [String: Any] {
        let v2 = domainParameter == "bucket"
        let badRequest =
            v2
            ? OpenAPIDocument.jsonResponse(
                "A line cannot be read or stored (the message names up to ten), or a parameter is wrong; nothing was written",
                schema: [
                    "type": "object", "required": ["code", "message"],
                    "properties": ["code": ["type": "string", "enum": ["invalid"]], "message": ["type": "string"]],
                ])
            : OpenAPIDocument.errorResponse(
                "A line cannot be read or stored (the message names up to ten), or a parameter is wrong; nothing was written",
                headers: [
                    "X-Influxdb-Error": ["description": "The message again", "schema": ["type": "string"]]
                ])
        return [
            "summary": "Store InfluxDB line protocol (plain or gzip): each numeric field is a series <measurement>.<field> with the tags as labels",
            "operationId": operationId,
            "parameters": [
                [
                    "name": domainParameter, "in": "query", "required": true, "description": "The Sluice domain (a `db/rp` name: the part before `/`)",
                    "schema": ["type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}(/.*)?$"],
                ],
                ["name": "precision", "in": "query", "schema": ["type": "string", "enum": precisions, "default": "ns"]],
                ["name": "Content-Encoding", "in": "header", "schema": ["type": "string", "enum": ["identity", "gzip"]]],
            ] + extraParameters.map { ["name": $0, "in": "query", "schema": ["type": "string"]] as [String: Any] },
            "requestBody": [
                "required": true,
                "content": [
                    "text/plain": [
                        "schema": ["type": "string", "description": "measurement[,tag=value…] field=value[,field=value…] [timestamp], one point per line"]
                    ]
                ],
            ] as [String: Any],
            "responses": [
                "204": ["description": "Kafka acknowledged every point"],
                "400": badRequest,
                "413": OpenAPIDocument.errorResponse("The body (inflated) is larger than SLUICE_INGEST_MAX_BODY_BYTES"),
                "503": OpenAPIDocument.errorResponse(
                    "The writer is too far behind, ingest holds as many bodies as it may, or Kafka did not acknowledge every message: send the same request again",
                    retry: true),
            ],
        ]
    }

    /// KairosDB's write, with or without the domain in the path.
    private static func kairosWrite(operationId: String, domainInPath: Bool = false) -> [String: Any] {
        var operation: [String: Any] = [
            "summary": "Store KairosDB metrics: each name with its tags is one series with one value per point",
            "operationId": operationId,
            "requestBody": [
                "required": true,
                "content": [
                    "application/json": [
                        "schema": [
                            "oneOf": [
                                ["$ref": "#/components/schemas/KairosMetric"],
                                ["type": "array", "minItems": 1, "items": ["$ref": "#/components/schemas/KairosMetric"]],
                            ]
                        ]
                    ]
                ],
            ] as [String: Any],
            "responses": [
                "204": ["description": "Kafka acknowledged every data point"],
                "400": OpenAPIDocument.kairosErrorResponse("A metric is invalid (each reason names it); nothing was accepted"),
                "413": OpenAPIDocument.errorResponse("The body is larger than SLUICE_INGEST_MAX_BODY_BYTES"),
                "503": OpenAPIDocument.errorResponse(
                    "The writer is too far behind, ingest holds as many bodies as it may, or Kafka did not acknowledge every message: send the same request again",
                    retry: true),
            ],
        ]
        if domainInPath {
            operation["parameters"] = [["name": "domain", "in": "path", "required": true, "schema": ["type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"]]]
        }
        return operation
    }
}
