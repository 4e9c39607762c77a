public import ArgumentParser
import RetainProto
import RetainRPC
import RetainWire

/// `retain health`: the serving status of one or more servers. Exits 0 only when all serve.
public struct HealthCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Check the health of one or more servers (exit 0 when all serve).")

    @Argument(help: "Servers, host:port.") var servers: [ServerAddress]
    @OptionGroup var credential: AuthorizationOption
    @Option(help: "The service to check; empty for the whole server.") var service: String = ""
    @Option(help: "Deadline per server in seconds.") var timeout: Double = 2
    @OptionGroup(title: "TLS") var connection: ConnectionOptions

    public init() {}

    public func run() async throws {
        var healthy = true
        let configuration = try connection.clientConfiguration(credential.clientConfiguration)
        for server in servers {
            let client = RPCClient(host: server.host, port: server.port, configuration: configuration)
            do {
                let answer = try await client.unary(
                    Retain_V1_Health.check, .init(service: service),
                    options: CallOptions(timeout: .milliseconds(Int64(timeout * 1000))))
                print("\(server)  \(answer.status)")
                healthy = healthy && answer.status == .serving
            } catch {
                print("\(server)  \(error)")
                healthy = false
            }
            await client.close()
        }
        if !healthy { throw ExitCode(Int32(RPCStatusCode.unavailable.rawValue)) }
    }
}
