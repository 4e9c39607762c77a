import NIOCore
import RetainWire

extension ServerResponder {
    /// The answers of a call that arrived on a connection: frames its ``ServerConnectionHandler``
    /// writes, on its event loop.
    struct Connection: Sendable {
        let eventLoop: any EventLoop
        let connection: NIOLoopBound<ServerConnectionHandler>
        let requestID: UInt32
        let generation: UInt64
        let allocator: ByteBufferAllocator
        /// Answers at least this large are compressed; nil when the caller does not accept it.
        let compressionThreshold: Int?
        /// Whether the caller asked for flow control: MESSAGE frames say so (`FLOW_CONTROLLED`).
        var flowControlled = false

        /// A complete frame for this call whose payload `body` writes.
        func frame(type: FrameType, flags: FrameFlags, _ body: (inout ByteBuffer) -> Void) -> ByteBuffer {
            var flags = flags
            if type == .message, flowControlled { flags.insert(.flowControlled) }
            var buffer = allocator.buffer(capacity: 64)
            buffer.writeFrameHeader(type: type, flags: flags, requestID: requestID, payloadLength: 0)
            body(&buffer)
            buffer.setFramePayloadLength(frameStart: buffer.readerIndex)
            if type == .message, let threshold = compressionThreshold {
                MessageCompression.compressFrame(
                    in: &buffer, frameStart: buffer.readerIndex,
                    messageStart: buffer.readerIndex + Frame.headerSize,
                    threshold: threshold, allocator: allocator)
            }
            return buffer
        }

        func send(_ buffer: ByteBuffer, ends: Bool) {
            if eventLoop.inEventLoop {
                connection.value.writeCallFrame(buffer, requestID: requestID, generation: generation, ends: ends)
            } else {
                eventLoop.execute { connection.value.writeCallFrame(buffer, requestID: requestID, generation: generation, ends: ends) }
            }
        }

        /// Writes through the event loop's task queue even when called on the event loop, so the
        /// frame goes after every frame other threads handed to the loop before this call (a
        /// direct write on the loop would overtake them).
        func sendQueued(_ buffer: ByteBuffer) {
            eventLoop.execute { connection.value.writeCallFrame(buffer, requestID: requestID, generation: generation, ends: false) }
        }

        func sendWhenReady(frame buffer: ByteBuffer) async throws {
            try await withUnsafeThrowingContinuation { (waiter: UnsafeContinuation<Void, any Error>) in
                if eventLoop.inEventLoop {
                    connection.value.writeCallFrame(buffer, requestID: requestID, generation: generation, ends: false, waiter: waiter)
                } else {
                    eventLoop.execute {
                        connection.value.writeCallFrame(buffer, requestID: requestID, generation: generation, ends: false, waiter: waiter)
                    }
                }
            }
        }

        func onCancel(_ handler: @escaping @Sendable () -> Void) {
            if eventLoop.inEventLoop {
                connection.value.setCancelHandler(requestID: requestID, generation: generation, handler)
            } else {
                eventLoop.execute { connection.value.setCancelHandler(requestID: requestID, generation: generation, handler) }
            }
        }
    }
}
