import NIOCore
import NIOPosix

/// The anchor: a bare SwiftNIO echo of 4-byte length-prefixed messages, with no protocol, no
/// protobuf and no dispatch. The RPC runtime is compared against it.
enum BareEcho {
    /// Splits length-prefixed messages, refusing anything over 4 MiB.
    struct Decoder: NIOSingleStepByteToMessageDecoder {
        typealias InboundOut = ByteBuffer
        mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
            guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
            guard length <= 4 << 20 else { throw BenchError("message too large") }
            guard buffer.readableBytes >= 4 + Int(length) else { return nil }
            return buffer.readSlice(length: 4 + Int(length))
        }
        mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
            try decode(buffer: &buffer)
        }
    }

    /// Writes every message back, flushing once per read burst.
    final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.write(data, promise: nil)
        }
        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }
    }

    /// Serves the echo on `port` until the process ends.
    static func serve(host: String, port: Int) async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(Decoder()), EchoHandler()])
                }
            }
            .bind(host: host, port: port).get()
        return channel.localAddress!.port!
    }
}

/// A benchmark failure.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
