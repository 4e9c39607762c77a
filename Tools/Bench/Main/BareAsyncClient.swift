import NIOCore
import NIOPosix

/// The anchor's async client: callers await their answer through a continuation, as with
/// RPCClient, but over the bare length-prefixed echo (answers match requests in FIFO order, so
/// no request ids, no headers and no protobuf).
final class BareAsyncClient: Sendable {
    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var waiting = CircularBuffer<CheckedContinuation<ByteBuffer, any Error>>()
        var flushScheduled = false
        var context: ChannelHandlerContext?

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }

        func send(_ message: ByteBuffer, _ continuation: CheckedContinuation<ByteBuffer, any Error>) {
            guard let context else { return continuation.resume(throwing: BenchError("closed")) }
            waiting.append(continuation)
            context.write(wrapOutboundOut(message), promise: nil)
            if !flushScheduled {
                flushScheduled = true
                context.eventLoop.assumeIsolated().execute {
                    self.flushScheduled = false
                    self.context?.flush()
                }
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            waiting.removeFirst().resume(returning: unwrapInboundIn(data))
        }
    }

    private let channel: any Channel
    private let handler: NIOLoopBound<Handler>

    private init(channel: any Channel, handler: NIOLoopBound<Handler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Connects to the bare echo on `port`.
    static func connect(port: Int) async throws -> BareAsyncClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(BareEcho.Decoder()), Handler()])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: Handler.self), eventLoop: channel.eventLoop)
        }.get()
        return BareAsyncClient(channel: channel, handler: handler)
    }

    /// Sends `message` and waits for its echo.
    func call(_ message: ByteBuffer) async throws -> ByteBuffer {
        let handler = handler
        return try await withCheckedThrowingContinuation { continuation in
            channel.eventLoop.execute { handler.value.send(message, continuation) }
        }
    }

    func close() async { try? await channel.close() }

    /// `concurrency` tasks calling back to back for `duration` seconds.
    static func load(port: Int, payload: Int, concurrency: Int, duration: Int) async throws -> LatencySummary {
        let client = try await connect(port: port)
        let message = BarePipelinedClient.bareMessage(payload: payload)
        let summary = try await closedLoopLoad(concurrency: concurrency, duration: duration) {
            _ = try await client.call(message)
        }
        await client.close()
        return summary
    }
}
