import NIOCore
@testable import RetainRPC
import RetainWire
import Testing

@Suite("frame writing")
struct FrameWritingTests {
    @Test("a frame header written in one store reads back field by field, after a frame already in the buffer")
    func frameHeaderAndLength() {
        var buffer = ByteBuffer(bytes: [9, 9, 9])
        buffer.moveReaderIndex(forwardBy: 2)
        let frameStart = buffer.writerIndex
        buffer.writeFrameHeader(type: .message, flags: .end, requestID: 0xA1B2_C3D4, payloadLength: 0)
        buffer.writeBytes([1, 2, 3, 4, 5])
        buffer.setFramePayloadLength(frameStart: frameStart)
        #expect(Array(buffer.readableBytesView) == [9, 0, 0, 0, 5, 1, 2, 2, 0, 0xA1, 0xB2, 0xC3, 0xD4, 1, 2, 3, 4, 5])
    }
}
