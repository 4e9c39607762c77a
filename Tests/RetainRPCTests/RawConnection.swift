import NIOCore
import NIOPosix
import RetainProto
import RetainRPC
import RetainWire

/// A bare TCP connection speaking frames by hand, for tests of what a misbehaving client sends.
enum RawConnection {
    /// Sends what `write` produces, then collects frames until the server closes the connection.
    /// With `closeAfter`, closes the connection itself after that long; with `halfClose`, shuts
    /// its writing side after sending.
    static func sendAndReadUntilClose(
        port: Int, closeAfter: Duration? = nil, halfClose: Bool = false, _ write: (inout ByteBuffer) -> Void
    ) async throws -> [Frame] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maximumPayloadSize: 1 << 20)))
                    return try NIOAsyncChannel<Frame, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        var buffer = ByteBuffer()
        write(&buffer)
        if let closeAfter {
            let raw = channel.channel
            Task {
                try? await Task.sleep(for: closeAfter)
                try? await raw.close()
            }
        }
        var frames: [Frame] = []
        try await channel.executeThenClose { inbound, outbound in
            if buffer.readableBytes > 0 {
                // The server may already have closed (that is what some tests wait for).
                try? await outbound.write(buffer)
            }
            if halfClose { outbound.finish() }
            do {
                for try await frame in inbound { frames.append(frame) }
            } catch {
                // A reset after GOAWAY is fine: the frames read so far are the answer.
            }
        }
        return frames
    }

    /// Sends one REQUEST with a server-side deadline and returns the first answer frame.
    static func roundTrip<M: ProtoMessage>(
        port: Int, method: String, message: M, timeoutMicros: UInt64, acceptCompression: Bool = false
    ) async throws -> Frame {
        var bytes = ByteBuffer()
        bytes.writeProtoMessage(message)
        return try await roundTripRaw(
            port: port, method: method, messageBytes: bytes, flags: [],
            timeoutMicros: timeoutMicros, acceptCompression: acceptCompression)
    }

    /// Sends one REQUEST whose message part is `messageBytes` as given (for example compressed,
    /// with `flags`), and returns the first answer frame.
    static func roundTripRaw(
        port: Int, method: String, messageBytes: ByteBuffer, flags: FrameFlags,
        timeoutMicros: UInt64 = 0, acceptCompression: Bool = false, rawHeader: [UInt8]? = nil
    ) async throws -> Frame {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maximumPayloadSize: 1 << 20)))
                    return try NIOAsyncChannel<Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var header = ByteBuffer()
        if let rawHeader {
            header.writeBytes(rawHeader)
        } else {
            header.writeProtoMessage(
                Retain_V1_CallHeader(
                    method: method, timeoutUs: timeoutMicros,
                    acceptCompression: acceptCompression))
        }
        var payload = ByteBuffer()
        payload.writeInteger(UInt32(header.readableBytes))
        payload.writeImmutableBuffer(header)
        payload.writeImmutableBuffer(messageBytes)
        var buffer = ByteBuffer()
        buffer.writeFrame(Frame(type: .request, flags: flags, requestID: 7, payload: payload))
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(buffer)
            for try await frame in inbound where frame.requestID == 7 { return frame }
            throw RPCError(.unavailable, "connection closed without an answer")
        }
    }
}
