public import NIOCore
import RetainWire

/// Splits a byte stream into ``Frame``s, checking version, type, flags and the size limit from
/// the header alone, before a single byte of an oversized body is buffered.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = Frame

    /// The largest payload accepted, in bytes.
    public let maximumPayloadSize: Int

    public init(maximumPayloadSize: Int) {
        self.maximumPayloadSize = maximumPayloadSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        guard
            let (length, version, type, flags, _, requestID) = buffer.getMultipleIntegers(
                at: buffer.readerIndex, as: (UInt32, UInt8, UInt8, UInt8, UInt8, UInt32).self
            )
        else {
            return nil
        }
        let header = try FrameHeader(
            payloadLength: length, version: version, type: type, flags: flags, requestID: requestID,
            maximumPayloadSize: maximumPayloadSize)
        guard buffer.readableBytes >= FrameHeader.size + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: FrameHeader.size)
        let payload = buffer.readSlice(length: Int(length))!
        return Frame(type: header.type, flags: header.flags, requestID: requestID, payload: payload)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if buffer.readableBytes > 0 { throw FrameError.truncated(bufferedBytes: buffer.readableBytes) }
        return nil
    }
}
