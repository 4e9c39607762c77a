public import NIOCore
public import RetainProto
public import RetainWire

/// The payload of a REQUEST frame:
///
/// ```
/// +----------------------------+---------------------------+-----------------------------+
/// | header length (uint32, BE) | CallHeader (protobuf)     | request message (protobuf,  |
/// |                            | `header length` bytes     | zstd if flags.compressed)   |
/// +----------------------------+---------------------------+-----------------------------+
/// ```
public struct RequestPayload: Sendable {
    /// The call's header.
    public var header: Retain_V1_CallHeader
    /// The request message bytes (still compressed when the frame says so).
    public var message: ByteBuffer

    public init(header: Retain_V1_CallHeader, message: ByteBuffer) {
        self.header = header
        self.message = message
    }

    /// Splits a REQUEST frame's payload into header and message.
    public static func decode(_ payload: ByteBuffer) throws(RPCError) -> RequestPayload {
        var payload = payload
        guard let headerLength = payload.readInteger(as: UInt32.self),
            let headerBytes = payload.readSlice(length: Int(headerLength))
        else {
            throw RPCError(.invalidArgument, "REQUEST payload shorter than its declared call header")
        }
        let header: Retain_V1_CallHeader
        do {
            header = try headerBytes.decodeProtoMessage(Retain_V1_CallHeader.self)
        } catch {
            throw RPCError(.invalidArgument, "malformed call header: \(error)")
        }
        return RequestPayload(header: header, message: payload)
    }

    /// Writes a REQUEST frame for `message` under `header` into `buffer`.
    public static func writeFrame<M: ProtoMessage>(
        requestID: UInt32, header: Retain_V1_CallHeader, message: M, into buffer: inout ByteBuffer
    ) {
        writeFrame(requestID: requestID, headerPrefix: [], header: header, compressionThreshold: nil, into: &buffer) {
            $0.writeProtoMessage(message)
        }
    }

    /// Writes a REQUEST frame whose call header is `headerPrefix` (an already packed header,
    /// typically naming the method) followed by `header` packed; protobuf merges the two.
    static func writeFrame(
        requestID: UInt32, headerPrefix: [UInt8], header: Retain_V1_CallHeader?, compressionThreshold: Int?,
        into buffer: inout ByteBuffer, _ writeMessage: (inout ByteBuffer) -> Void
    ) {
        let frameStart = buffer.writerIndex
        let lengthIndex = frameStart + Frame.headerSize
        // The frame header, the header length and the prefix in one write (each write of a
        // buffer costs its checks); the lengths are fixed below.
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Frame.headerSize + 4 + headerPrefix.count) { target in
            Frame.storeHeader(type: .request, flags: [], requestID: requestID, payloadLength: 0, at: target)
            target.storeBytes(of: UInt32(headerPrefix.count).bigEndian, toByteOffset: Frame.headerSize, as: UInt32.self)
            headerPrefix.withUnsafeBytes { prefix in
                let start = Frame.headerSize + 4
                UnsafeMutableRawBufferPointer(rebasing: target[start..<(start + prefix.count)]).copyMemory(from: prefix)
            }
            return Frame.headerSize + 4 + headerPrefix.count
        }
        if let header {
            let headerLength = headerPrefix.count + CallHeaderWriter.write(header, into: &buffer)
            buffer.setInteger(UInt32(headerLength), at: lengthIndex)
        }
        let messageStart = buffer.writerIndex
        writeMessage(&buffer)
        buffer.setFramePayloadLength(frameStart: frameStart)
        if let compressionThreshold {
            MessageCompression.compressFrame(
                in: &buffer, frameStart: frameStart, messageStart: messageStart,
                threshold: compressionThreshold, allocator: ByteBufferAllocator())
        }
    }
}
