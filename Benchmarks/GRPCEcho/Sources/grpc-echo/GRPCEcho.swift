import ArgumentParser

/// `grpc-echo`: the anchor of `retain-bench grpc-echo`, the same unary Echo as `retain-echo` on
/// grpc-swift 2 over HTTP/2, with its own load generator.
@main
struct GRPCEcho: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpc-echo",
        abstract: "retain.v1.Echo/Echo on grpc-swift 2 over HTTP/2: a server and a load generator.",
        subcommands: [Serve.self, Load.self])
}
