/// The series search's contract, in one home: the query service's `GET /series`, and the bridge's, which
/// passes the same search through for the chart page.
extension OpenAPIDocument {
    /// `GET /series`; a document using it must define `SeriesPage` as `seriesPageSchema`.
    public static func seriesSearch(summaryPrefix: String) -> [String: Any] {
        func parameter(_ name: String, _ schema: [String: Any], _ description: String = "") -> [String: Any] {
            var parameter: [String: Any] = ["name": name, "in": "query", "required": false, "schema": schema]
            if !description.isEmpty { parameter["description"] = description }
            return parameter
        }
        return [
            "summary": summaryPrefix
                + "Series of a domain found by name (exactly or by prefix) and label matchers, in pages, each with its first and last time",
            "operationId": "series",
            "parameters": [
                parameter("domain", ["type": "string", "default": "default"]),
                parameter("name", ["type": "string"], "the series' name exactly"),
                parameter("prefix", ["type": "string"], "names that start with this"),
                [
                    "name": "match[]", "in": "query", "required": false, "style": "form", "explode": true,
                    "schema": ["type": "array", "items": ["type": "string"]],
                    "description":
                        "label matchers as Prometheus writes them, all of which hold: k=v, k!=v, k=~regex, k!~regex (a missing label is empty; __name__ is the name)",
                ] as [String: Any],
                parameter("limit", ["type": "integer", "minimum": 1, "maximum": 1000, "default": 100]),
                parameter("after", ["type": "string"], "the previous page's next"),
            ],
            "responses": [
                "200": jsonResponse("One page of series, in a stable order", schema: ["$ref": "#/components/schemas/SeriesPage"]),
                "400": errorResponse(
                    "A parameter is wrong: a matcher that is none of the four, a regular expression PostgreSQL cannot read, a limit out of range"),
                "503": errorResponse(
                    "Too many requests at once, a statement outlasted its timeout, or PostgreSQL (or the query service) does not answer", retry: true),
            ],
        ]
    }

    public static var seriesPageSchema: [String: Any] {
        [
            "type": "object",
            "required": ["series"],
            "properties": [
                "series": [
                    "type": "array",
                    "items": [
                        "type": "object", "required": ["series", "name", "labels"],
                        "properties": [
                            "series": ["type": "string", "description": "the text form /api and /save address it by"],
                            "name": ["type": "string"],
                            "labels": ["type": "object", "additionalProperties": ["type": "string"]],
                            "first_time": ["type": "integer", "format": "int64", "nullable": true],
                            "last_time": ["type": "integer", "format": "int64", "nullable": true],
                        ] as [String: Any],
                    ] as [String: Any],
                ],
                "next": ["type": "string", "nullable": true, "description": "after= for the next page; absent or null on the last"],
            ] as [String: Any],
        ]
    }
}
