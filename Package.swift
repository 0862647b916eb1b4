// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice-ingest", targets: ["sluice-ingest"]),
        .executable(name: "sluice-writer", targets: ["sluice-writer"]),
        .executable(name: "sluice-query", targets: ["sluice-query"]),
        .executable(name: "sluice-bridge", targets: ["sluice-bridge"]),
        .executable(name: "sluice-local-kafka", targets: ["sluice-local-kafka"]),
        .executable(name: "sluice-producer", targets: ["sluice-producer"]),
        .executable(name: "sluice-client", targets: ["sluice-client"]),
        .executable(name: "sluice-verify", targets: ["sluice-verify"]),
        .executable(name: "sluice-admin", targets: ["sluice-admin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: Shared
        .systemLibrary(
            name: "CRdKafka",
            path: "Shared/CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // A prefetch hint for loops that know which memory they visit next (Swift cannot spell one).
        .target(
            name: "CPrefetch",
            path: "Shared/CPrefetch"
        ),
        .target(
            name: "SluiceModel",
            path: "Shared/Model"
        ),
        // The formats agents send (InfluxDB line protocol, Graphite, Prometheus remote write), read into
        // measurements: no server code, so parsers are fuzzed on their own.
        .target(
            name: "SluiceFormats",
            dependencies: ["SluiceModel", "CSnappy", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Shared/Formats",
            exclude: ["RemoteWrite/remote_write.proto"]
        ),
        .systemLibrary(
            name: "CSnappy",
            path: "Shared/CSnappy",
            pkgConfig: "snappy",
            providers: [.apt(["libsnappy-dev"])]
        ),
        .target(
            name: "SluiceKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Kafka"
        ),
        .target(
            name: "SluiceStorage",
            dependencies: [
                "SluiceModel", "SluiceRuntime",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/Storage"
        ),
        .target(
            name: "SluiceRuntime",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Runtime"
        ),
        // Client side of signed requests: what load generators and tests sign with, no server code.
        .target(
            name: "SluiceSigning",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/Signing"
        ),
        // Keys, rights and the middleware every data route sits behind.
        .target(
            name: "SluiceAuth",
            dependencies: [
                "SluiceModel", "SluiceRuntime", "SluiceSigning", "SluiceStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Auth"
        ),

        // MARK: Services
        .target(
            name: "Ingest",
            dependencies: [
                "SluiceModel", "SluiceAuth", "SluiceSigning", "SluiceKafka", "SluiceRuntime", "SluiceStorage", "SluiceFormats",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/ingest/Sources/Ingest"
        ),
        .executableTarget(
            name: "sluice-ingest",
            dependencies: ["Ingest", "SluiceRuntime"],
            path: "Services/ingest/Sources/sluice-ingest"
        ),
        .target(
            name: "Writer",
            dependencies: [
                "SluiceModel", "SluiceKafka", "SluiceStorage", "SluiceRuntime", "CPrefetch",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Services/writer/Sources/Writer"
        ),
        .executableTarget(
            name: "sluice-writer",
            dependencies: ["Writer", "SluiceRuntime"],
            path: "Services/writer/Sources/sluice-writer"
        ),
        .target(
            name: "Bridge",
            dependencies: [
                "SluiceModel", "SluiceAuth", "SluiceSigning", "SluiceKafka", "SluiceRuntime", "SluiceStorage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Services/bridge/Sources/Bridge"
        ),
        .executableTarget(
            name: "sluice-bridge",
            dependencies: ["Bridge", "SluiceRuntime"],
            path: "Services/bridge/Sources/sluice-bridge"
        ),
        .target(
            name: "Query",
            dependencies: [
                "SluiceModel", "SluiceAuth", "SluiceStorage", "SluiceRuntime",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Services/query/Sources/Query"
        ),
        .executableTarget(
            name: "sluice-query",
            dependencies: ["Query", "SluiceRuntime"],
            path: "Services/query/Sources/sluice-query"
        ),
        .target(
            name: "Admin",
            dependencies: [
                "SluiceAuth", "SluiceModel", "SluiceRuntime", "SluiceStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/admin/Sources/Admin"
        ),
        .executableTarget(
            name: "sluice-admin",
            dependencies: ["Admin", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Services/admin/Sources/sluice-admin"
        ),
        .executableTarget(
            name: "sluice-local-kafka",
            dependencies: ["CRdKafka"],
            path: "Services/local-kafka"
        ),

        // MARK: Load generators
        .target(
            name: "LoadGen",
            dependencies: [
                "SluiceModel", "SluiceSigning",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "loadgen/Sources/LoadGen"
        ),
        .executableTarget(
            name: "sluice-producer",
            dependencies: [
                "LoadGen",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "loadgen/Sources/sluice-producer"
        ),
        .executableTarget(
            name: "sluice-client",
            dependencies: [
                "LoadGen",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "loadgen/Sources/sluice-client"
        ),
        .executableTarget(
            name: "sluice-verify",
            dependencies: [
                "LoadGen", "SluiceRuntime", "SluiceStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "loadgen/Sources/sluice-verify"
        ),

        // MARK: Benchmarks
        .executableTarget(
            name: "sluice-bench-decode",
            dependencies: ["SluiceModel", "Ingest"],
            path: "Benchmarks/decode"
        ),
        .executableTarget(
            name: "sluice-bench-rollups",
            dependencies: ["SluiceModel", "SluiceStorage", "Writer"],
            path: "Benchmarks/rollups"
        ),
        // Fuzzing of the agent formats' parsers: a short fixed-seed run in UnitTests, the long one here.
        .target(
            name: "FormatFuzzing",
            dependencies: ["SluiceModel", "SluiceFormats"],
            path: "Benchmarks/FormatFuzzing"
        ),
        // Differential fuzzing of body reading: a short fixed-seed run in UnitTests, the long one here.
        .target(
            name: "BodyFuzzing",
            dependencies: ["SluiceModel", "Ingest"],
            path: "Benchmarks/BodyFuzzing"
        ),
        .executableTarget(
            name: "sluice-fuzz-body",
            dependencies: ["BodyFuzzing"],
            path: "Benchmarks/fuzz-body"
        ),
        .executableTarget(
            name: "sluice-bench-formats",
            dependencies: [
                "LoadGen", "SluiceFormats",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Benchmarks/bench-formats"
        ),
        .executableTarget(
            name: "sluice-bench-peers",
            dependencies: [
                "LoadGen", "SluiceFormats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Benchmarks/peers"
        ),
        .executableTarget(
            name: "sluice-fuzz-formats",
            dependencies: ["FormatFuzzing"],
            path: "Benchmarks/fuzz-formats"
        ),

        // MARK: Tests
        .testTarget(
            name: "UnitTests",
            dependencies: [
                "SluiceModel", "SluiceRuntime", "SluiceKafka", "SluiceStorage", "SluiceAuth", "SluiceSigning", "SluiceFormats", "Ingest", "Query", "Writer",
                "Bridge", "LoadGen", "BodyFuzzing", "FormatFuzzing", "Admin",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/UnitTests"
        ),
        // Starts real PostgreSQL databases, brokers and service processes for the two suites below.
        .target(
            name: "SluiceTestSupport",
            dependencies: [
                "SluiceSigning",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "SluiceModel", "SluiceKafka", "SluiceStorage", "SluiceRuntime", "SluiceAuth", "Ingest", "Writer", "Query", "Bridge", "SluiceTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Tests/IntegrationTests"
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "SluiceModel", "SluiceSigning", "SluiceTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            path: "Tests/EndToEndTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
