// swift-tools-version: 6.1
import PackageDescription

/// Settings shared by every Swift target: Swift 6 language mode and the upcoming features that
/// grpc-swift 2 uses, so imports and existentials are explicit everywhere.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let nio: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let unixSignals: Target.Dependency = .product(name: "UnixSignals", package: "swift-service-lifecycle")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "Retain",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "retain-echo", targets: ["retain-echo"]),
        .executable(name: "retain-bench", targets: ["retain-bench"]),
        .executable(name: "retain", targets: ["retain"]),
        .executable(name: "retain-fuzz", targets: ["retain-fuzz"]),
        .executable(name: "retain-ledger", targets: ["retain-ledger"]),
        .executable(name: "retain-gateway", targets: ["retain-gateway"]),
        .executable(name: "retain-profile", targets: ["retain-profile"]),
        .executable(name: "retain-growth", targets: ["retain-growth"]),
        .executable(name: "retain-feedback", targets: ["retain-feedback"]),
        .executable(name: "retain-console", targets: ["retain-console"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // MARK: C libraries from Debian and the protoc-c generated code
        .systemLibrary(
            name: "CProtobufC", path: "Shared/CProtobufC", pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(
            name: "CZstd", path: "Shared/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .target(name: "CRetainProto", dependencies: ["CProtobufC"], path: "Shared/CRetainProto"),
        .systemLibrary(name: "CCRC32C", path: "Shared/CCRC32C"),
        .systemLibrary(name: "CPrefetch", path: "Shared/CPrefetch"),

        // MARK: Wire: frame header, frame types and flags, status codes, RPCError (no NIO, no protobuf, no services)
        .target(name: "RetainWire", path: "Shared/RetainWire", swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainWireTests", dependencies: ["RetainWire"], path: "Tests/RetainWireTests",
            swiftSettings: swiftSettings),

        // MARK: Messages: Swift message types generated from proto/ and the protobuf-c codec (no NIO)
        .target(
            name: "RetainProto", dependencies: ["RetainWire", "CProtobufC", "CRetainProto"], path: "Shared/RetainProto",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainProtoTests", dependencies: ["RetainProto"], path: "Tests/RetainProtoTests",
            swiftSettings: swiftSettings),

        // MARK: Authentication: service tokens, scopes, API keys, rate limits
        .target(
            name: "RetainAuth",
            dependencies: ["RetainWire", "RetainProto", "RetainClock", .product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/RetainAuth", swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainAuthTests", dependencies: ["RetainWire", "RetainAuth", "RetainClock", "RetainProto"],
            path: "Tests/RetainAuthTests", swiftSettings: swiftSettings),

        // MARK: RPC runtime on SwiftNIO: frames, server, client, health, reflection, TLS
        .target(
            name: "RetainRPC",
            dependencies: [
                "RetainWire", "RetainProto", "RetainAuth", "CRetainProto", "CZstd", nio, nioPosix, nioSSL,
                .product(name: "NIOTLS", package: "swift-nio"), logging, metrics, lifecycle,
            ],
            path: "Shared/RetainRPC", swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainRPCTests",
            dependencies: [
                "RetainWire", "RetainAuth", "RetainClock", "RetainRPC", "RetainProcess", "RetainTestSupport", "RetainFuzzTarget",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            path: "Tests/RetainRPCTests", swiftSettings: swiftSettings),

        // MARK: Storage: write-ahead log and zstd snapshots; state kept in memory and durable through it
        .target(
            name: "RetainStorage", dependencies: ["CZstd", "CCRC32C", logging], path: "Shared/RetainStorage",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainStorageTests", dependencies: ["RetainStorage", "RetainProcess", logging], path: "Tests/RetainStorageTests",
            swiftSettings: swiftSettings),
        .target(
            name: "RetainState", dependencies: ["RetainStorage", "RetainProto", logging, lifecycle],
            path: "Shared/RetainState", swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainStateTests", dependencies: ["RetainWire", "RetainState"], path: "Tests/RetainStateTests",
            swiftSettings: swiftSettings),

        // MARK: Rule sets: live configuration, a versioned history kept in each service's state (no NIO)
        .target(
            name: "RetainRuleSets", dependencies: ["RetainProto", "RetainState"], path: "Shared/RetainRuleSets",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainRuleSetsTests", dependencies: ["RetainRuleSets", "RetainProto", "RetainState", "RetainStorage", logging],
            path: "Tests/RetainRuleSetsTests", swiftSettings: swiftSettings),

        // MARK: Moves: users moving between a service's shards, the shard's side (no NIO)
        .target(name: "RetainMoves", dependencies: ["RetainProto"], path: "Shared/RetainMoves", swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainMovesTests", dependencies: ["RetainMoves", "RetainProto"], path: "Tests/RetainMovesTests",
            swiftSettings: swiftSettings),

        // MARK: Flow rules: the rewards the gateway's flows pay, a rule set kept by the Ledger (no NIO)
        .target(
            name: "RetainFlowRules", dependencies: ["RetainProto", "RetainRuleSets"], path: "Shared/RetainFlowRules",
            swiftSettings: swiftSettings),

        // MARK: Clock: the one injected wall clock every service reads "now" from
        .target(name: "RetainClock", path: "Shared/RetainClock", swiftSettings: swiftSettings),

        // MARK: Replication: etcd decides who leads a shard; the leader ships its log to the replicas
        .target(
            name: "RetainEtcd", dependencies: [nio, nioPosix, .product(name: "NIOHTTP1", package: "swift-nio"), logging],
            path: "Shared/RetainEtcd", swiftSettings: swiftSettings),
        .target(
            name: "RetainReplication",
            dependencies: [
                "RetainWire", "RetainEtcd", "RetainCluster", "RetainState", "RetainStorage", "RetainRPC", "RetainProto", logging, lifecycle,
            ],
            path: "Shared/RetainReplication", swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainReplicationTests", dependencies: ["RetainReplication", "RetainState"],
            path: "Tests/RetainReplicationTests", swiftSettings: swiftSettings),

        // MARK: Cluster: a replicated cluster's keys in etcd and what they say (shards, leaders, members; no I/O)
        .target(name: "RetainCluster", path: "Shared/RetainCluster", swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainClusterTests", dependencies: ["RetainCluster"], path: "Tests/RetainClusterTests",
            swiftSettings: swiftSettings),

        // MARK: Service kit: what every executable shares (flags, logging, metrics, ops endpoints, shutdown)
        .target(
            name: "RetainServiceKit",
            dependencies: [
                "RetainWire", "RetainRPC", "RetainAuth", "RetainState", "RetainStorage", "RetainReplication", "RetainRuleSets",
                "RetainClock", "RetainMoves", "RetainCluster", logging, lifecycle, unixSignals, argumentParser,
                nio, nioPosix, .product(name: "NIOHTTP1", package: "swift-nio"), metrics,
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Shared/RetainServiceKit", swiftSettings: swiftSettings),

        // The etcd client (leases, compare-and-swap, watches), against a real etcd
        .testTarget(
            name: "RetainEtcdTests",
            dependencies: [
                "RetainEtcd", "RetainProcess", logging, nio,
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Tests/RetainEtcdTests", swiftSettings: swiftSettings),

        // MARK: Processes: spawning executables, reading their memory (tests, benchmarks, launcher)
        .target(name: "RetainProcess", path: "Shared/RetainProcess", swiftSettings: swiftSettings),

        // MARK: Test support: TLS test certificates (tests and `retain-bench echo --tls`), in no production target
        .target(name: "RetainTestSupport", dependencies: ["RetainProcess"], path: "Tests/Support", swiftSettings: swiftSettings),

        // MARK: Webhooks: subscriptions and the outbox inside each service's state (no NIO), and the
        // deliverer and RPCs every service that hosts them shares (docs/WEBHOOKS.md)
        .target(
            name: "RetainWebhooks",
            dependencies: ["RetainProto", "RetainState", .product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/RetainWebhooks", swiftSettings: swiftSettings),
        .target(
            name: "RetainWebhookDelivery",
            dependencies: [
                "RetainWebhooks", "RetainWire", "RetainRPC", "RetainState", "RetainClock", "RetainProto", "RetainServiceKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), nio, nioPosix,
                .product(name: "NIOHTTP1", package: "swift-nio"), logging, lifecycle, argumentParser,
            ],
            path: "Shared/RetainWebhookDelivery", swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainWebhooksTests",
            dependencies: [
                "RetainWebhooks", "RetainWire", "RetainProto", "RetainRPC", "RetainState", "RetainProcess", "GrowthCore", "GatewayCore",
                logging, nio,
                nioPosix, .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/RetainWebhooksTests", swiftSettings: swiftSettings),

        // MARK: Profile service: Core (domain), Service (RPC adapter), Main (executable), tests
        .target(
            name: "ProfileCore",
            dependencies: [
                "RetainProto", "RetainState", "RetainRuleSets", "RetainWebhooks", "RetainMoves",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Services/Profile/Core", swiftSettings: swiftSettings),
        .target(
            name: "ProfileService",
            dependencies: [
                "RetainWire", "ProfileCore", "RetainClock", "RetainProto", "RetainRPC", "RetainRuleSets", "RetainState",
                "RetainServiceKit", "RetainAuth", "RetainMoves", logging, lifecycle,
            ],
            path: "Services/Profile/Service", swiftSettings: swiftSettings),
        .executableTarget(
            name: "retain-profile",
            dependencies: [
                "ProfileService", "ProfileCore", "RetainServiceKit", "RetainWebhookDelivery", "RetainRPC", argumentParser, logging, nio,
            ],
            path: "Services/Profile/Main", swiftSettings: swiftSettings),
        .testTarget(
            name: "ProfileTests",
            dependencies: [
                "RetainWire", "ProfileCore", "ProfileService", "RetainProto", "RetainRPC", "RetainState", "RetainProcess",
                "RetainRuleSets", "RetainWebhooks", "RetainMoves", logging, .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/ProfileTests", exclude: ["Fixtures"], swiftSettings: swiftSettings),

        // MARK: Growth service
        .target(
            name: "GrowthCore", dependencies: ["RetainProto", "RetainState", "RetainRuleSets", "RetainWebhooks", "RetainMoves"],
            path: "Services/Growth/Core",
            swiftSettings: swiftSettings),
        .target(
            name: "GrowthService",
            dependencies: [
                "RetainWire", "GrowthCore", "RetainClock", "RetainProto", "RetainRPC", "RetainState", "RetainServiceKit", "RetainMoves",
                logging,
                lifecycle,
            ],
            path: "Services/Growth/Service", swiftSettings: swiftSettings),
        .executableTarget(
            name: "retain-growth",
            dependencies: [
                "GrowthService", "GrowthCore", "RetainProto", "RetainState", "RetainServiceKit", "RetainWebhookDelivery", "RetainRPC",
                argumentParser,
                logging,
            ],
            path: "Services/Growth/Main", swiftSettings: swiftSettings),
        .testTarget(
            name: "GrowthTests",
            dependencies: [
                "RetainWire", "GrowthCore", "GrowthService", "RetainProto", "RetainRPC", "RetainState", "RetainProcess", "RetainRuleSets",
                "RetainMoves", "RetainCluster", logging,
            ],
            path: "Tests/GrowthTests", swiftSettings: swiftSettings),

        // MARK: Ledger service
        .target(
            name: "LedgerCore",
            dependencies: [
                "RetainProto", "RetainState", "RetainRuleSets", "RetainFlowRules", "CPrefetch",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Services/Ledger/Core", swiftSettings: swiftSettings),
        .target(
            name: "LedgerService",
            dependencies: [
                "RetainWire", "LedgerCore", "RetainAuth", "RetainClock", "RetainProto", "RetainRPC", "RetainRuleSets", "RetainState",
                "RetainServiceKit", logging, lifecycle, nio,
            ],
            path: "Services/Ledger/Service", swiftSettings: swiftSettings),
        .executableTarget(
            name: "retain-ledger",
            dependencies: ["LedgerService", "LedgerCore", "RetainServiceKit", argumentParser, logging],
            path: "Services/Ledger/Main", swiftSettings: swiftSettings),
        .testTarget(
            name: "LedgerTests",
            dependencies: [
                "RetainWire", "LedgerCore", "LedgerService", "RetainAuth", "RetainRPC", "RetainState", "RetainStorage", "RetainProcess",
                logging,
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/LedgerTests", swiftSettings: swiftSettings),

        // MARK: Feedback service
        .target(
            name: "FeedbackCore", dependencies: ["RetainProto", "RetainState", "RetainRuleSets", "RetainWebhooks", "RetainMoves"],
            path: "Services/Feedback/Core", swiftSettings: swiftSettings),
        .target(
            name: "FeedbackService",
            dependencies: [
                "RetainWire", "FeedbackCore", "RetainClock", "RetainProto", "RetainRPC", "RetainRuleSets", "RetainState",
                "RetainServiceKit", "RetainMoves",
                logging,
            ],
            path: "Services/Feedback/Service", swiftSettings: swiftSettings),
        .executableTarget(
            name: "retain-feedback",
            dependencies: [
                "FeedbackService", "FeedbackCore", "RetainServiceKit", "RetainWebhookDelivery", "RetainRPC", logging, argumentParser,
            ],
            path: "Services/Feedback/Main", swiftSettings: swiftSettings),
        .testTarget(
            name: "FeedbackTests",
            dependencies: [
                "RetainWire", "FeedbackCore", "FeedbackService", "RetainProto", "RetainRPC", "RetainState", "RetainProcess", "RetainMoves",
                logging,
            ],
            path: "Tests/FeedbackTests", swiftSettings: swiftSettings),

        // MARK: Gateway service: routing and the flows that span services
        .target(
            name: "GatewayCore",
            dependencies: ["RetainCluster", "RetainProto", "RetainFlowRules", .product(name: "Crypto", package: "swift-crypto")],
            path: "Services/Gateway/Core",
            swiftSettings: swiftSettings),
        .target(
            name: "GatewayService",
            dependencies: [
                "RetainWire", "GatewayCore", "RetainAuth", "RetainClock", "RetainCluster", "RetainEtcd", "RetainFlowRules", "RetainProto",
                "RetainRPC", "RetainRuleSets", "RetainServiceKit", logging, lifecycle, metrics, nio,
            ],
            path: "Services/Gateway/Service", swiftSettings: swiftSettings),
        // The gRPC front door: standard gRPC over HTTP/2 (grpc-swift 2) in front of the gateway's
        // native server, each call handed to it in process, bytes passed through undecoded. Only
        // retain-gateway links it.
        .target(
            name: "GatewayGRPC",
            dependencies: [
                "RetainWire", "RetainProto", "RetainRPC", logging, lifecycle, nio, nioSSL,
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            path: "Services/Gateway/GRPC", swiftSettings: swiftSettings),
        .testTarget(
            name: "GatewayGRPCTests",
            dependencies: [
                "GatewayGRPC", "RetainProto", "RetainProcess", "RetainTestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            path: "Tests/GatewayGRPCTests", swiftSettings: swiftSettings),
        .executableTarget(
            name: "retain-gateway",
            dependencies: [
                "GatewayService", "GatewayCore", "GatewayGRPC", "RetainAuth", "RetainClock", "RetainProto", "RetainCluster", "RetainEtcd",
                "RetainFlowRules", "RetainRPC", "RetainServiceKit", argumentParser, logging, lifecycle,
            ],
            path: "Services/Gateway/Main", swiftSettings: swiftSettings),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "RetainWire", "GatewayCore", "GatewayService", "RetainAuth", "RetainClock", "RetainCluster", "RetainEtcd", "RetainLauncher",
                "RetainDemo", "RetainProto", "RetainRPC", "RetainServiceKit", "RetainProcess", "RetainTestSupport", "RetainFlowRules",
                logging, nio, .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/GatewayTests", swiftSettings: swiftSettings),

        // MARK: Console: the operations console in the browser, a client of the gateway (no service imports it)
        .target(
            name: "ConsoleCore", dependencies: ["RetainProto", "RetainAuth"], path: "Services/Console/Core",
            swiftSettings: swiftSettings),
        .target(
            name: "ConsoleService",
            dependencies: [
                "ConsoleCore", "RetainWire", "RetainProto", "RetainRPC", "RetainAuth", logging, lifecycle, nio, nioPosix,
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Services/Console/Service", swiftSettings: swiftSettings),
        .executableTarget(
            name: "retain-console",
            dependencies: [
                "ConsoleService", "ConsoleCore", "RetainAuth", "RetainProto", "RetainRPC", "RetainServiceKit", argumentParser, logging,
                lifecycle, unixSignals, nio,
            ],
            path: "Services/Console/Main", swiftSettings: swiftSettings),
        .testTarget(
            name: "ConsoleTests",
            dependencies: ["ConsoleCore", "ConsoleService", "RetainProto", "RetainAuth", "RetainRPC", logging],
            path: "Tests/ConsoleTests", swiftSettings: swiftSettings),

        // MARK: Tools: the `retain` CLI and load tester, the suite launcher (`retain up`), the demo
        .target(
            name: "RetainCommands",
            dependencies: [
                "RetainWire", "RetainRPC", "RetainProto", "RetainCluster", "RetainEtcd", "CProtobufC", argumentParser, logging, nio,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Tools/Commands", swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainCommandsTests",
            dependencies: ["RetainCommands", "RetainCluster", "RetainEtcd", "RetainRPC", "RetainProcess", "RetainTestSupport", logging],
            path: "Tests/RetainCommandsTests", swiftSettings: swiftSettings),
        .target(
            name: "RetainLauncher",
            dependencies: [
                "GatewayCore", "RetainAuth", "RetainCluster", "RetainEtcd", "RetainServiceKit", "RetainProcess", argumentParser, logging,
                unixSignals,
            ],
            path: "Tools/Launcher", swiftSettings: swiftSettings),
        .target(
            name: "RetainDemo",
            dependencies: ["RetainWire", "RetainLauncher", "RetainCommands", "RetainRPC", "RetainProto", argumentParser],
            path: "Tools/Demo", swiftSettings: swiftSettings),
        .executableTarget(
            name: "retain", dependencies: ["RetainCommands", "RetainLauncher", "RetainDemo", "RetainSoak", argumentParser],
            path: "Tools/Retain",
            swiftSettings: swiftSettings),

        // MARK: Tools: soak (the suite under mixed load with faults)
        .target(
            name: "RetainSoak",
            dependencies: ["RetainWire", "RetainLauncher", "RetainAuth", "RetainProto", "RetainRPC", "RetainProcess", argumentParser, nio],
            path: "Tools/Soak", swiftSettings: swiftSettings),
        .testTarget(
            name: "RetainSoakTests", dependencies: ["RetainSoak", "RetainLauncher", "RetainProcess"],
            path: "Tests/RetainSoakTests", swiftSettings: swiftSettings),

        // MARK: Tools: fuzzing, the echo test service, the storage tool
        .target(
            name: "RetainFuzzTarget", dependencies: ["RetainWire", "RetainRPC", "RetainProto", nio], path: "Tools/Fuzz/Target",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "retain-fuzz", dependencies: ["RetainFuzzTarget"], path: "Tools/Fuzz/Main",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "retain-echo", dependencies: ["RetainWire", "RetainAuth", "RetainRPC", "RetainServiceKit", argumentParser, logging],
            path: "Tools/Echo",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "retain-storage", dependencies: ["RetainStorage", logging, argumentParser],
            path: "Tools/StorageTool", swiftSettings: swiftSettings),

        // MARK: Benchmarks: `retain-bench` and one target per service's benchmark, all on RetainRPC's PipelinedClient
        .target(
            name: "LedgerBench",
            dependencies: ["RetainWire", "LedgerCore", "RetainProto", "RetainRPC", "RetainProcess", argumentParser, nio],
            path: "Tools/Bench/Ledger", swiftSettings: swiftSettings),
        .target(
            name: "ProfileBench",
            dependencies: [
                "RetainWire", "ProfileCore", "RetainProto", "RetainRPC", "RetainProcess", "RetainState", "RetainStorage",
                argumentParser, logging, nio, nioPosix,
            ],
            path: "Tools/Bench/Profile", swiftSettings: swiftSettings),
        .target(
            name: "GrowthBench",
            dependencies: [
                "GrowthCore", "RetainProto", "RetainRPC", "RetainProcess", "RetainState", "RetainStorage",
                argumentParser, logging,
            ],
            path: "Tools/Bench/Growth", swiftSettings: swiftSettings),
        .target(
            name: "GatewayBench",
            dependencies: [
                "GatewayCore", "RetainCluster", "RetainEtcd", "RetainProto", "RetainRPC", "RetainProcess", argumentParser, logging, nio,
            ],
            path: "Tools/Bench/Gateway", swiftSettings: swiftSettings),
        .target(
            name: "ConsoleBench",
            dependencies: ["GatewayCore", "RetainProto", "RetainRPC", "RetainProcess", argumentParser, nio, nioPosix],
            path: "Tools/Bench/Console", swiftSettings: swiftSettings),
        .target(
            name: "FeedbackBench", dependencies: ["RetainProto", "RetainRPC", "RetainProcess", argumentParser, nio],
            path: "Tools/Bench/Feedback", swiftSettings: swiftSettings),
        .executableTarget(
            name: "retain-bench",
            dependencies: [
                "LedgerBench", "ProfileBench", "GrowthBench", "GatewayBench", "FeedbackBench", "ConsoleBench",
                "RetainProto", "RetainRPC", "RetainProcess", "RetainTestSupport", argumentParser, nio, nioPosix,
            ],
            path: "Tools/Bench/Main", swiftSettings: swiftSettings),

        // MARK: Tests across services: real processes on real (and full) disks, killed; what callers saw is what survives
        .testTarget(
            name: "DurabilityTests",
            dependencies: ["RetainWire", "RetainProto", "RetainRPC", "RetainProcess", "RetainServiceKit", "RetainTestSupport"],
            path: "Tests/DurabilityTests", swiftSettings: swiftSettings),
    ]
)
