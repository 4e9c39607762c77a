import NIOCore
import NIOPosix

/// The anchor's load generator: keeps `concurrency` length-prefixed messages in flight on one
/// connection to the bare echo, sending the next as each answer arrives, and records latencies.
/// The same shape as RetainRPC's `PipelinedClient`, which loads the RPC echo beside it, for a
/// protocol with no request ids (answers come back in order).
final class BarePipelinedClient: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let message: ByteBuffer
    private let concurrency: Int
    private let until: NIODeadline
    private var sentAt: [UInt64] = []
    private var head = 0
    private(set) var latencies: [UInt64] = []
    let done: EventLoopPromise<[UInt64]>
    private var outstanding = 0

    init(message: ByteBuffer, concurrency: Int, until: NIODeadline, done: EventLoopPromise<[UInt64]>) {
        self.message = message
        self.concurrency = concurrency
        self.until = until
        self.done = done
        latencies.reserveCapacity(1 << 20)
    }

    func channelActive(context: ChannelHandlerContext) {
        for _ in 0..<concurrency { send(context) }
        context.flush()
    }

    private func send(_ context: ChannelHandlerContext) {
        sentAt.append(NIODeadline.now().uptimeNanoseconds)
        outstanding += 1
        context.write(wrapOutboundOut(message), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now()
        latencies.append(now.uptimeNanoseconds - sentAt[head])
        head += 1
        outstanding -= 1
        if head > 4096 {
            sentAt.removeFirst(head)
            head = 0
        }
        if now < until {
            send(context)
        } else if outstanding == 0 {
            done.succeed(latencies)
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// A length-prefixed message of `payload` bytes for the bare echo.
    static func bareMessage(payload: Int) -> ByteBuffer {
        var message = ByteBuffer()
        message.writeInteger(UInt32(payload))
        message.writeRepeatingByte(0x61, count: payload)
        return message
    }

    /// Runs the load against the bare echo on `port` for `duration`; returns per-call latencies.
    static func run(port: Int, payload: Int, concurrency: Int, duration: TimeAmount) async throws -> [UInt64] {
        try await run(
            port: port, message: bareMessage(payload: payload), decoder: BareEcho.Decoder(),
            concurrency: concurrency, duration: duration)
    }

    /// Runs the load: `message` sent again as each answer (split by `decoder`) arrives.
    private static func run(
        port: Int, message: ByteBuffer, decoder: BareEcho.Decoder, concurrency: Int, duration: TimeAmount
    ) async throws -> [UInt64] {
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let promise = loop.makePromise(of: [UInt64].self)
        let frozen = message
        _ = try await ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(decoder),
                        BarePipelinedClient(message: frozen, concurrency: concurrency, until: .now() + duration, done: promise),
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return try await promise.futureResult.get()
    }
}
