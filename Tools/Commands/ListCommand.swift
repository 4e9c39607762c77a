public import ArgumentParser
import RetainProto
import RetainRPC

/// `retain list`: the services and methods a running server answers (like `grpcurl list`).
public struct ListCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the services and methods of a running server.")

    @Argument(help: "The server, host:port.") var server: ServerAddress
    @OptionGroup var credential: AuthorizationOption
    @OptionGroup(title: "TLS") var connection: ConnectionOptions

    public init() {}

    public func run() async throws {
        let client = RPCClient(
            host: server.host, port: server.port, configuration: try connection.clientConfiguration(credential.clientConfiguration))
        defer { Task { await client.close() } }
        try await ExitStatus.reporting {
            for service in try await MethodResolver(client: client).services() {
                print(service.name)
                for method in service.methods {
                    let streaming = method.serverStreaming ? "stream " : ""
                    print("  \(method.name)(\(method.inputType)) returns (\(streaming)\(method.outputType))")
                }
            }
        }
    }
}
