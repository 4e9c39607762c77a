public import ArgumentParser
public import RetainRPC

/// How the operator's commands that work through the gateway (`retain campaign`, ...) reach it:
/// its address, the credential and TLS.
public struct GatewayOptions: ParsableArguments, Sendable {
    /// The gateway, host:port.
    @Option(name: .customLong("gateway"), help: "The gateway, HOST:PORT.")
    public var address: ServerAddress = ServerAddress(argument: "127.0.0.1:7000")!

    /// Seconds each call may take.
    @Option(help: "Deadline of each call in seconds.")
    public var timeout: Double = 30

    @OptionGroup public var credential: AuthorizationOption
    @OptionGroup(title: "TLS") public var connection: ConnectionOptions

    public init() {}

    public func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    /// A client of the gateway with the credential and TLS the options give; close it after use.
    public func client() throws -> RPCClient {
        RPCClient(host: address.host, port: address.port, configuration: try connection.clientConfiguration(credential.clientConfiguration))
    }

    /// The options of each call.
    public var callOptions: CallOptions { CallOptions(timeout: .milliseconds(Int64(timeout * 1000))) }
}
