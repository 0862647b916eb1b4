import SluiceModel
import SluiceRuntime

/// The query service's contract, served at `GET /openapi.json` (README, "query").
enum QueryOpenAPI {
    static let document = OpenAPIDocument.json(
        title: "Sluice query",
        summary: "As-of samples of one series over a window (sample k of N stands at start + k·(end−start)/N), or an aggregate per time bucket.",
        paths: [
            "/api": [
                "get": [
                    "summary": "As-of samples of one series, or an aggregate (fn) per bucket of step ns",
                    "operationId": "samples",
                    "parameters": [
                        parameter("tag", required: true, ["type": "string", "minLength": 1]),
                        parameter("start", required: true, ["type": "integer", "format": "int64"], "ns since the epoch; negative: that many ns before now"),
                        parameter("end", required: false, ["type": "integer", "format": "int64"], "ns since the epoch (default now); negative: before now"),
                        parameter("samples", required: false, ["type": "integer", "minimum": 1, "maximum": 10000, "default": 1000]),
                        parameter("domain", required: false, ["type": "string", "default": "default"]),
                        parameter("measured_at", required: false, ["type": "boolean", "default": false], "also name each sample's measurement time"),
                        parameter(
                            "fn", required: false, ["type": "string", "enum": AggregateFunction.names, "default": AggregateFunction.asOfName],
                            "asof: the value as of each sample time; otherwise the aggregate per bucket [b, b+step) and value index"),
                        parameter(
                            "step", required: false, ["type": "integer", "format": "int64", "minimum": 1],
                            "bucket width in ns, aligned to the epoch (aggregates only; default: the smallest of 1 s … 1 d giving at most `samples` buckets)"),
                        parameter(
                            "fill", required: false, ["type": "string", "enum": Fill.allCases.map(\.rawValue), "default": "null"],
                            "empty buckets (aggregates only): null values, left out, the previous bucket's, or interpolated"),
                    ],
                    "responses": [
                        "200": OpenAPIDocument.jsonResponse("The samples", schema: ["$ref": "#/components/schemas/Samples"]),
                        "400": OpenAPIDocument.errorResponse("A parameter is missing or wrong, or the window is shorter than SLUICE_QUERY_MIN_WINDOW_MS"),
                        "404": OpenAPIDocument.errorResponse("No measurement was ever stored for this tag in this domain"),
                        "503": OpenAPIDocument.errorResponse(
                            "Too many requests at once, a statement outlasted its timeout, or PostgreSQL does not answer", retry: true),
                    ],
                ] as [String: Any]
            ],
            "/series": ["get": OpenAPIDocument.seriesSearch(summaryPrefix: "")],
        ].merging(kairosPaths) { first, _ in first }.merging(historyPaths) { first, _ in first },
        schemas: [
            "KairosQuery": [
                "type": "object",
                "required": ["metrics"],
                "properties": [
                    "start_absolute": ["type": "integer", "format": "int64", "description": "ms since the epoch"],
                    "start_relative": ["$ref": "#/components/schemas/KairosDuration"],
                    "end_absolute": ["type": "integer", "format": "int64", "description": "ms since the epoch, inclusive (default now)"],
                    "end_relative": ["$ref": "#/components/schemas/KairosDuration"],
                    "metrics": [
                        "type": "array", "minItems": 1,
                        "items": [
                            "type": "object", "required": ["name"],
                            "properties": [
                                "name": ["type": "string"],
                                "tags": ["type": "object", "additionalProperties": ["type": "array", "items": ["type": "string"]]],
                                "group_by": [
                                    "type": "array",
                                    "items": [
                                        "type": "object", "properties": ["name": ["type": "string"], "tags": ["type": "array", "items": ["type": "string"]]],
                                    ],
                                ],
                                "aggregators": [
                                    "type": "array",
                                    "items": [
                                        "type": "object", "required": ["name"],
                                        "description": "Range aggregators need sampling; rate takes sampling or unit (default a millisecond)",
                                        "properties": [
                                            "name": ["type": "string", "enum": KairosEvaluator.aggregatorNames],
                                            "sampling": ["$ref": "#/components/schemas/KairosDuration"],
                                            "unit": ["type": "string", "description": "rate: per one of this unit"],
                                            "align_sampling": [
                                                "type": "boolean", "default": true,
                                                "description":
                                                    "ranges from the top of the day (the second for ms, Monday for weeks), UTC; false: from the start",
                                            ],
                                            "align_start_time": [
                                                "type": "boolean", "default": false, "description": "stamp each range's start, not its first point's time",
                                            ],
                                            "align_end_time": [
                                                "type": "boolean", "default": false, "description": "stamp each range's end, not its first point's time",
                                            ],
                                        ] as [String: Any],
                                    ] as [String: Any],
                                ],
                                "limit": ["type": "integer", "minimum": 0],
                                "order": ["type": "string", "enum": ["asc", "desc"]],
                            ] as [String: Any],
                        ] as [String: Any],
                    ],
                ] as [String: Any],
            ] as [String: Any],
            "KairosDuration": [
                "type": "object", "required": ["value", "unit"],
                "properties": [
                    "value": ["type": "integer", "minimum": 1],
                    "unit": ["type": "string", "enum": ["milliseconds", "seconds", "minutes", "hours", "days", "weeks", "months", "years"]],
                ] as [String: Any],
            ] as [String: Any],
            "KairosResults": [
                "type": "object", "required": ["queries"],
                "properties": [
                    "queries": [
                        "type": "array",
                        "items": [
                            "type": "object", "required": ["sample_size", "results"],
                            "properties": [
                                "sample_size": ["type": "integer"],
                                "results": [
                                    "type": "array",
                                    "items": [
                                        "type": "object", "required": ["name", "group_by", "tags", "values"],
                                        "properties": [
                                            "name": ["type": "string"],
                                            "group_by": ["type": "array", "items": ["type": "object"]],
                                            "tags": ["type": "object", "additionalProperties": ["type": "array", "items": ["type": "string"]]],
                                            "values": ["type": "array", "items": ["type": "array", "items": ["type": "number"]]],
                                        ] as [String: Any],
                                    ] as [String: Any],
                                ],
                            ] as [String: Any],
                        ] as [String: Any],
                    ]
                ],
            ] as [String: Any],
            "HistoryError": [
                "type": "object", "required": ["error"],
                "properties": ["error": ["type": "string"], "code": ["type": "string"]],
            ] as [String: Any],
            "HistoryStatus": [
                "type": "object", "required": ["query_id", "state", "submitted_at"],
                "properties": [
                    "query_id": ["type": "string"],
                    "state": ["type": "string", "enum": ["QUEUED", "RUNNING", "FINISHED", "FAILED", "CANCELLED"]],
                    "submitted_at": ["type": "string"],
                    "started_at": ["type": "string", "nullable": true],
                    "finished_at": ["type": "string", "nullable": true],
                    "rows": ["type": "integer", "nullable": true],
                    "error": ["type": "string", "nullable": true],
                ] as [String: Any],
            ] as [String: Any],
            "HistoryPage": [
                "type": "object", "required": ["query_id", "columns", "rows", "next_paging_token"],
                "properties": [
                    "query_id": ["type": "string"],
                    "columns": [
                        "type": "array",
                        "items": [
                            "type": "object", "required": ["name", "type"], "properties": ["name": ["type": "string"], "type": ["type": "string"]],
                        ] as [String: Any],
                    ],
                    "rows": ["type": "array", "items": ["type": "array", "items": [:] as [String: Any]]],
                    "next_paging_token": ["type": "string", "nullable": true],
                ] as [String: Any],
            ] as [String: Any],
            "KairosTags": [
                "type": "object", "required": ["queries"],
                "properties": [
                    "queries": [
                        "type": "array",
                        "items": [
                            "type": "object", "required": ["results"],
                            "properties": [
                                "results": [
                                    "type": "array",
                                    "items": [
                                        "type": "object", "required": ["name", "tags", "values"],
                                        "properties": [
                                            "name": ["type": "string"],
                                            "tags": ["type": "object", "additionalProperties": ["type": "array", "items": ["type": "string"]]],
                                            "values": ["type": "array", "maxItems": 0, "items": ["type": "array"]],
                                        ] as [String: Any],
                                    ] as [String: Any],
                                ]
                            ],
                        ] as [String: Any],
                    ]
                ],
            ] as [String: Any],
            "SeriesPage": OpenAPIDocument.seriesPageSchema,
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
                    "source": [
                        "type": "string", "enum": ["raw", "1m", "1h"],
                        "description": "present for aggregates: the rollup tier the closed buckets were read from, or the raw rows",
                    ],
                    "samples": [
                        "type": "array",
                        "items": [
                            "type": "object", "required": ["time", "values"],
                            "properties": [
                                "time": ["type": "integer", "format": "int64"],
                                "values": ["type": "array", "nullable": true, "items": ["type": "number", "nullable": true]],
                                "measuredAt": ["type": "integer", "format": "int64"],
                            ] as [String: Any],
                        ] as [String: Any],
                    ],
                ] as [String: Any],
            ] as [String: Any],
        ],
        openPaths: kairosProbes
    )

    /// Seed 001's history queries.
    static var historyPaths: [String: Any] {
        let queryID: [String: Any] = ["name": "query_id", "in": "path", "required": true, "schema": ["type": "string"]]
        let refusal = { (description: String) in OpenAPIDocument.jsonResponse(description, schema: ["$ref": "#/components/schemas/HistoryError"]) }
        let notFound = refusal("Unknown, dropped, expired, or not this key's to see (code QueryNotFound)")
        let unavailable = OpenAPIDocument.errorResponse("PostgreSQL does not answer", retry: true)
        return [
            "/v0/data_hist/query": [
                "post": [
                    "summary": "Submit one SELECT over the hist views (metrics, series, minutes, hours); PostgreSQL plans it as the history role at once",
                    "operationId": "historySubmit",
                    "requestBody": [
                        "required": true,
                        "content": [
                            "application/json": [
                                "schema": [
                                    "type": "object", "required": ["query"],
                                    "properties": [
                                        "query": ["type": "string", "minLength": 1],
                                        "retention_minutes": ["type": "integer", "minimum": 1, "maximum": 10080, "default": 60, "nullable": true],
                                    ] as [String: Any],
                                ] as [String: Any]
                            ]
                        ],
                    ],
                    "responses": [
                        "200": OpenAPIDocument.jsonResponse(
                            "Queued", schema: ["type": "object", "required": ["query_id"], "properties": ["query_id": ["type": "string"]]]),
                        "400": refusal(
                            "Not one statement the history role may run (code InvalidQuerySyntax, PermissionDenied, UndefinedObject, …), or a bad retention"),
                        "429": refusal("SLUICE_HIST_QUEUE_LIMIT queries are queued or running (code QueueFull)"),
                        "503": unavailable,
                    ],
                ] as [String: Any]
            ],
            "/v0/data_hist/status/{query_id}": [
                "get": [
                    "summary": "A history query's state",
                    "operationId": "historyStatus",
                    "parameters": [queryID],
                    "responses": [
                        "200": OpenAPIDocument.jsonResponse("Its state", schema: ["$ref": "#/components/schemas/HistoryStatus"]),
                        "404": notFound,
                        "503": unavailable,
                    ],
                ] as [String: Any]
            ],
            "/v0/data_hist/next": [
                "post": [
                    "summary": "A page of a finished result: up to results_per_page rows from paging_token (absent or null: the first)",
                    "operationId": "historyNext",
                    "requestBody": [
                        "required": true,
                        "content": [
                            "application/json": [
                                "schema": [
                                    "type": "object", "required": ["query_id"],
                                    "properties": [
                                        "query_id": ["type": "string"],
                                        "paging_token": ["type": "string", "nullable": true],
                                        "results_per_page": ["type": "integer", "minimum": 1, "maximum": 1000, "default": 1000, "nullable": true],
                                    ] as [String: Any],
                                ] as [String: Any]
                            ]
                        ],
                    ],
                    "responses": [
                        "200": OpenAPIDocument.jsonResponse("The page", schema: ["$ref": "#/components/schemas/HistoryPage"]),
                        "400": refusal("A bad page size or paging token (code InvalidPageSize, InvalidPagingToken)"),
                        "404": notFound,
                        "409": refusal("Not finished: queued, running, failed or cancelled (code QueryNotFinished)"),
                        "503": unavailable,
                    ],
                ] as [String: Any]
            ],
            "/v0/data_hist/query/{query_id}": [
                "delete": [
                    "summary": "Cancel a queued or running query (its status then says CANCELLED), or drop a finished one (then unknown)",
                    "operationId": "historyCancel",
                    "parameters": [queryID],
                    "responses": [
                        "204": ["description": "Cancelled or dropped"],
                        "404": notFound,
                        "503": unavailable,
                    ],
                ] as [String: Any]
            ],
        ]
    }

    /// KairosDB's version and health probes, which need no key, as `/health` needs none.
    static var kairosProbes: [String: Any] {
        [
            "/api/v1/version": [
                "get": [
                    "summary": "KairosDB's version probe: the API answered",
                    "operationId": "kairosVersion",
                    "responses": [
                        "200": OpenAPIDocument.jsonResponse(
                            "The version",
                            schema: [
                                "type": "object", "required": ["version"], "properties": ["version": ["type": "string"]],
                            ])
                    ],
                ] as [String: Any]
            ],
            "/api/v1/health/check": [
                "get": [
                    "summary": "KairosDB's health check: whether PostgreSQL answers",
                    "operationId": "kairosHealthCheck",
                    "responses": ["204": ["description": "Healthy"], "500": ["description": "PostgreSQL does not answer"]],
                ] as [String: Any]
            ],
            "/api/v1/health/status": [
                "get": [
                    "summary": "KairosDB's health status: each check named with OK or FAIL",
                    "operationId": "kairosHealthStatus",
                    "responses": ["200": OpenAPIDocument.jsonResponse("The checks", schema: ["type": "array", "items": ["type": "string"]])],
                ] as [String: Any]
            ],
        ]
    }

    /// KairosDB's read API, with and without the domain in the path.
    static var kairosPaths: [String: Any] {
        var paths: [String: Any] = [:]
        for (prefix, suffix) in [("/api/v1", ""), ("/api/v1/{domain}", "InDomain")] {
            let domain: [[String: Any]] =
                suffix.isEmpty ? [] : [["name": "domain", "in": "path", "required": true, "schema": ["type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"]]]
            let reads: [(path: String, summary: String, operation: String, answer: [String: Any])] = [
                (
                    "datapoints/query", "KairosDB query: series by name and tags, merged or grouped, optionally aggregated per sampling range", "kairosQuery",
                    OpenAPIDocument.jsonResponse("The data points per query and group", schema: ["$ref": "#/components/schemas/KairosResults"])
                ),
                (
                    "datapoints/query/tags", "KairosDB tag query: per metric, every tag value of its matching series (the window does not narrow them)",
                    "kairosTags",
                    OpenAPIDocument.jsonResponse("The tags per metric", schema: ["$ref": "#/components/schemas/KairosTags"])
                ),
            ]
            for read in reads {
                paths["\(prefix)/\(read.path)"] = [
                    "post": [
                        "summary": read.summary,
                        "operationId": read.operation + suffix,
                        "parameters": domain,
                        "requestBody": ["required": true, "content": ["application/json": ["schema": ["$ref": "#/components/schemas/KairosQuery"]]]],
                        "responses": [
                            "200": read.answer,
                            "400": OpenAPIDocument.kairosErrorResponse("The query is not one Sluice answers (each reason says why)"),
                            "503": OpenAPIDocument.errorResponse(
                                "Too many requests at once, a statement outlasted its timeout, or PostgreSQL does not answer", retry: true),
                        ],
                    ] as [String: Any]
                ]
            }
            for (name, what) in [("metricnames", "series names (optionally by prefix)"), ("tagnames", "label names"), ("tagvalues", "label values")] {
                var parameters = domain
                if name == "metricnames" { parameters.append(parameter("prefix", required: false, ["type": "string"])) }
                paths["\(prefix)/\(name)"] = [
                    "get": [
                        "summary": "KairosDB listing: the domain's \(what), sorted",
                        "operationId": name + suffix,
                        "parameters": parameters,
                        "responses": [
                            "200": OpenAPIDocument.jsonResponse(
                                "The names",
                                schema: [
                                    "type": "object", "required": ["results"], "properties": ["results": ["type": "array", "items": ["type": "string"]]],
                                ]),
                            "400": OpenAPIDocument.kairosErrorResponse("The domain is not a valid domain"),
                            "503": OpenAPIDocument.errorResponse("Too many requests at once, or PostgreSQL does not answer", retry: true),
                        ],
                    ] as [String: Any]
                ]
            }
        }
        return paths
    }

    private static func parameter(_ name: String, required: Bool, _ schema: [String: Any], _ description: String = "") -> [String: Any] {
        var parameter: [String: Any] = ["name": name, "in": "query", "required": required, "schema": schema]
        if !description.isEmpty { parameter["description"] = description }
        return parameter
    }
}
