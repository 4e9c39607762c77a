// swift-tools-version: 6.1
import PackageDescription

/// The anchor for `retain-bench grpc-echo`: the same unary Echo as `retain-echo`, served and
/// loaded with grpc-swift 2 over HTTP/2. A separate package, so that the main build does not
/// carry gRPC. Build: `swift build -c release --package-path Benchmarks/GRPCEcho`.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "GRPCEcho",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "grpc-echo", targets: ["grpc-echo"])
    ],
    dependencies: [
        .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", exact: "2.9.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(
            name: "grpc-echo",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/grpc-echo",
            swiftSettings: swiftSettings)
    ]
)
