public import ArgumentParser
import RetainProto
import RetainRPC

/// `retain describe`: a message's fields, or a method's request and answer (like `grpcurl describe`).
public struct DescribeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Describe a message (retain.v1.RegisterUserRequest) or a method (retain.v1.Profile/RegisterUser).")

    @Argument(help: "A message's full name, or a method path.") var name: String
    @OptionGroup var credential: AuthorizationOption
    @Option(help: "The server to ask about methods, host:port.") var server: ServerAddress?
    @OptionGroup(title: "TLS") var connection: ConnectionOptions

    public init() {}

    public func run() async throws {
        try await ExitStatus.reporting {
            if name.contains("/") {
                guard let server else { throw ValidationError("describing a method needs --server host:port") }
                let client = RPCClient(
                    host: server.host, port: server.port, configuration: try connection.clientConfiguration(credential.clientConfiguration))
                defer { Task { await client.close() } }
                let method = try await MethodResolver(client: client).method(name)
                print("\(method.path) (\(method.serverStreaming ? "server streaming" : "unary"))")
                print("request:")
                print(try MessageDescription.describe(MethodResolver.descriptor(method.inputType), indent: "  "))
                print("answer:")
                print(try MessageDescription.describe(MethodResolver.descriptor(method.outputType), indent: "  "))
            } else {
                print(try MessageDescription.describe(MethodResolver.descriptor(name), indent: ""))
            }
        }
    }
}
