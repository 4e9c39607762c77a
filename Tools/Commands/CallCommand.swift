public import ArgumentParser
import Foundation
import NIOCore
import RetainProto
import RetainRPC

/// `retain call`: calls any method with a JSON request and prints the JSON answer, driven by
/// the protobuf descriptors (like `grpcurl`). Exits with the call's status code (0 for OK).
public struct CallCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a method with a JSON request; print the JSON answer; exit with the status code.")

    @Argument(help: "The server, host:port.") var server: ServerAddress
    @Argument(help: "The method, retain.v1.<Service>/<Method>.") var method: String
    @Argument(help: "The request as JSON; '-' reads it from standard input.") var json: String = "{}"
    @Option(name: .shortAndLong, help: "Metadata key=value (repeatable).") var header: [String] = []
    @OptionGroup var credential: AuthorizationOption
    @Option(name: .customLong("idempotency-key"), help: "Idempotency key.") var idempotencyKey: String = ""
    @Option(name: .customLong("trace-id"), help: "Trace id.") var traceID: String = ""
    @Option(help: "Deadline in seconds.") var timeout: Double?
    @Flag(help: "Print the answer on one line.") var compact = false
    @OptionGroup(title: "TLS") var connection: ConnectionOptions

    public init() {}

    public func run() async throws {
        let client = RPCClient(
            host: server.host, port: server.port, configuration: try connection.clientConfiguration(credential.clientConfiguration))
        defer { Task { await client.close() } }
        try await ExitStatus.reporting {
            let info = try await MethodResolver(client: client).method(method)
            let input = try MethodResolver.descriptor(info.inputType)
            let output = try MethodResolver.descriptor(info.outputType)
            let text = json == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : json
            let request = ByteBuffer(bytes: try ProtoJSON.encode(json: text, as: input))
            let options = try callOptions()
            if info.serverStreaming {
                for try await answer in client.serverStreamingRaw(path: method, request: request, options: options) {
                    print(try ProtoJSON.decode(Array(answer.readableBytesView), as: output, pretty: !compact))
                }
            } else {
                let answer = try await client.unaryRaw(path: method, request: request, options: options)
                print(try ProtoJSON.decode(Array(answer.readableBytesView), as: output, pretty: !compact))
            }
        }
    }

    private func callOptions() throws -> CallOptions {
        var metadata: [String: String] = [:]
        for pair in header {
            guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("--header must be key=value, not '\(pair)'") }
            metadata[pair[..<equals].lowercased()] = String(pair[pair.index(after: equals)...])
        }
        return CallOptions(
            timeout: timeout.map { .milliseconds(Int64($0 * 1000)) }, authorization: credential.value,
            traceID: traceID, idempotencyKey: idempotencyKey, metadata: metadata)
    }
}
