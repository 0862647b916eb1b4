import SluiceRuntime

/// The writer's contract: it serves only what every service serves (it reads Kafka, not HTTP).
enum WriterOpenAPI {
    static let document = OpenAPIDocument.json(
        title: "Sluice writer",
        summary: "Stores measurements from Kafka in PostgreSQL exactly once; over HTTP only its health and metrics.",
        paths: [:]
    )
}
