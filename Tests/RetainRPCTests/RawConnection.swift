import NIOCore
import NIOPosix
import RetainProto
import RetainRPC

/// A bare TCP connection speaking frames by hand, for tests of what a misbehaving client sends.
enum RawConnection {
    /// Sends what `write` produces, then collects frames until the server closes the connection.
    static func sendAndReadUntilClose(port: Int, _ write: (inout ByteBuffer) -> Void) async throws -> [Frame] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maximumPayloadSize: 1 << 20)))
                    return try NIOAsyncChannel<Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var buffer = ByteBuffer()
        write(&buffer)
        var frames: [Frame] = []
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(buffer)
            do {
                for try await frame in inbound { frames.append(frame) }
            } catch {
                // A reset after GOAWAY is fine: the frames read so far are the answer.
            }
        }
        return frames
    }

    /// Sends one REQUEST with a server-side deadline and returns the first answer frame.
    static func roundTrip<M: ProtoMessage>(port: Int, method: String, message: M, timeoutMicros: UInt64) async throws -> Frame {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maximumPayloadSize: 1 << 20)))
                    return try NIOAsyncChannel<Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var buffer = ByteBuffer()
        RequestPayload.writeFrame(requestID: 7, header: Retain_V1_CallHeader(method: method, timeoutUs: timeoutMicros),
                                  message: message, into: &buffer)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(buffer)
            for try await frame in inbound where frame.requestID == 7 { return frame }
            throw RPCError(.unavailable, "connection closed without an answer")
        }
    }
}
