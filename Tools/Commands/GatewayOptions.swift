public import ArgumentParser
import Foundation
public import RetainProto
public import RetainRPC

/// How the operator's commands that work through the gateway (`retain segment`, `campaign`,
/// `config`, `webhook`) reach it: its address (`--gateway`, or `--server` for the same; the
/// environment's `RETAIN_SERVER` when neither is given; else 127.0.0.1:7000), the credential
/// (`--authorization` or `RETAIN_AUTHORIZATION`), TLS and the deadline of each call.
public struct GatewayOptions: ParsableArguments, Sendable {
    /// The environment variable read when no address is given.
    public static let environmentVariable = "RETAIN_SERVER"
    /// The address used when none is given anywhere.
    public static let defaultAddress = ServerAddress(argument: "127.0.0.1:7000")!

    /// The gateway (or one service's own port), host:port.
    @Option(
        name: [.customLong("gateway"), .customLong("server")],
        help: "The gateway (or one service's own port), HOST:PORT; default $RETAIN_SERVER, else 127.0.0.1:7000.")
    public var address: ServerAddress?

    /// Seconds each call may take.
    @Option(help: "Deadline of each call in seconds.")
    public var timeout: Double = 60

    @OptionGroup public var credential: AuthorizationOption
    @OptionGroup(title: "TLS") public var connection: ConnectionOptions

    public init() {}

    public func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if address == nil, let value = ProcessInfo.processInfo.environment[Self.environmentVariable],
            ServerAddress(argument: value) == nil
        {
            throw ValidationError("\(Self.environmentVariable) must be HOST:PORT, not '\(value)'")
        }
    }

    /// Where the calls go: the option, else the environment, else the default.
    public var target: ServerAddress {
        address ?? ProcessInfo.processInfo.environment[Self.environmentVariable].flatMap(ServerAddress.init(argument:))
            ?? Self.defaultAddress
    }

    /// A client of the gateway with the credential and TLS the options give; close it after use.
    public func client() throws -> RPCClient {
        RPCClient(host: target.host, port: target.port, configuration: try connection.clientConfiguration(credential.clientConfiguration))
    }

    /// The options of each call: the deadline and the credential.
    public var callOptions: CallOptions {
        CallOptions(timeout: .milliseconds(Int64(timeout * 1000)), authorization: credential.value)
    }

    /// Runs `body` with a client, then closes it; a failed call becomes the exit status
    /// (``ExitStatus/reporting(_:)``).
    public func run(_ body: (RPCClient) async throws -> Void) async throws {
        let client = try client()
        do {
            try await ExitStatus.reporting { try await body(client) }
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }

    /// Calls `method` once with `request` on a client of its own (closed after).
    public func call<I: ProtoMessage, O: ProtoMessage>(_ method: RPCMethod<I, O>, _ request: I) async throws -> O {
        let client = try client()
        do {
            let answer = try await client.unary(method, request, options: callOptions)
            await client.close()
            return answer
        } catch {
            await client.close()
            throw error
        }
    }
}
