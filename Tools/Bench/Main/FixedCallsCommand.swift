import ArgumentParser
import NIOCore
import RetainProto
import RetainRPC

/// `retain-bench fixed-calls`: a fixed number of calls of one hot path (``FixedCall``: the echo
/// or one service's) against a running server, for instruction counts (`valgrind
/// --tool=callgrind`) rather than wall clock: run it with two call counts and divide the
/// difference by the difference of calls to get the cost of one call
/// (`scripts/bench_instructions.sh`).
struct FixedCallsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixed-calls", abstract: "Make a fixed number of calls of one hot path (for instruction counts).",
        shouldDisplay: false)

    @Option(help: "The server's port on 127.0.0.1.") var port: Int
    @Option(help: "The call: \(FixedCall.allCases.map(\.rawValue).joined(separator: ", ")).") var call: FixedCall = .echo
    @Flag(help: "Call the bare NIO echo (BareAsyncClient) instead of retain-echo (RPCClient).") var bare = false
    @Option(help: "Calls in total, spread evenly over the concurrent callers.") var calls: Int = 100_000
    @Option(help: "Concurrent callers on the one connection.") var concurrency: Int = 64
    @Option(help: "Payload bytes per message.") var payload: Int = 16
    @Option(help: "Deadline sent with each echo call, in milliseconds; 0 sends none.") var timeoutMs: Int = 0

    func run() async throws {
        let perCaller = max(1, calls / concurrency)
        if bare {
            let client = try await BareAsyncClient.connect(port: port)
            let message = BarePipelinedClient.bareMessage(payload: payload)
            _ = try await client.call(message)
            try await Self.callers(concurrency, perCaller) { _ in _ = try await client.call(message) }
            await client.close()
        } else if call == .echo {
            let client = RPCClient(host: "127.0.0.1", port: port)
            let request = Retain_V1_EchoRequest(payload: Array(repeating: 0x61, count: payload))
            _ = try await client.unary(Retain_V1_Echo.echo, request)
            let options = CallOptions(timeout: timeoutMs > 0 ? .milliseconds(timeoutMs) : nil)
            try await Self.callers(concurrency, perCaller) { _ in _ = try await client.unary(Retain_V1_Echo.echo, request, options: options)
            }
            await client.close()
        } else {
            var configuration = RPCClient.Configuration()
            configuration.compressionThreshold = nil
            configuration.maximumPayloadSize = 16 << 20
            let client = RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
            let call = call
            try await call.prepare(client)
            try await Self.callers(concurrency, perCaller) { index in try await call.call(client, index) }
            await client.close()
        }
        print("\(concurrency * perCaller) calls")
    }

    /// `concurrency` tasks making `count` calls each, back to back; each call gets its own number.
    private static func callers(_ concurrency: Int, _ count: Int, _ call: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for caller in 0..<concurrency {
                group.addTask {
                    for index in 0..<count { try await call(caller * count + index) }
                }
            }
        }
    }
}
