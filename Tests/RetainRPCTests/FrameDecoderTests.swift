import NIOCore
import NIOEmbedded
import NIOTestUtils
import RetainRPC
import RetainWire
import Testing

@Suite("frame decoder")
struct FrameDecoderTests {
    func frameBytes(type: FrameType = .request, flags: FrameFlags = [], id: UInt32 = 1, payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(Frame(type: type, flags: flags, requestID: id, payload: ByteBuffer(bytes: payload)))
        return buffer
    }

    func channel(maximum: Int = 1024) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumPayloadSize: maximum)))
        return channel
    }

    @Test("the header is 12 bytes, big-endian, as PROTOCOL.md draws it")
    func headerLayout() {
        let bytes = Array(frameBytes(type: .message, flags: .end, id: 0x0102_0304, payload: [0xAA]).readableBytesView)
        #expect(bytes == [0, 0, 0, 1, 1, 2, 0x02, 0, 1, 2, 3, 4, 0xAA])
    }

    @Test("a frame split across many reads is reassembled")
    func splitFrames() throws {
        let channel = try channel()
        let bytes = frameBytes(payload: Array(0..<100))
        for byte in bytes.readableBytesView {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        let frame = try #require(try channel.readInbound(as: Frame.self))
        #expect(Array(frame.payload.readableBytesView) == Array(0..<100))
        #expect(try channel.readInbound(as: Frame.self) == nil)
    }

    @Test("many frames in one read come out one by one, in order")
    func manyFramesInOneRead() throws {
        let channel = try channel()
        var all = ByteBuffer()
        for id in 1...50 { all.writeImmutableBuffer(frameBytes(id: UInt32(id), payload: [UInt8(id)])) }
        try channel.writeInbound(all)
        for id in 1...50 {
            let frame = try #require(try channel.readInbound(as: Frame.self))
            #expect(frame.requestID == UInt32(id))
            #expect(Array(frame.payload.readableBytesView) == [UInt8(id)])
        }
    }

    @Test("a payload of exactly the maximum is accepted, one byte more is refused from the header alone")
    func maximumSize() throws {
        let accepting = try channel(maximum: 64)
        try accepting.writeInbound(frameBytes(payload: Array(repeating: 1, count: 64)))
        #expect(try accepting.readInbound(as: Frame.self)?.payload.readableBytes == 64)

        let refusing = try channel(maximum: 64)
        var header = ByteBuffer()
        header.writeFrameHeader(type: .request, flags: [], requestID: 1, payloadLength: 65)
        #expect(throws: FrameError.tooLarge(length: 65, maximum: 64)) { try refusing.writeInbound(header) }
    }

    @Test("a header claiming 4 GiB is refused before any body arrives")
    func hugeClaim() throws {
        let channel = try channel(maximum: 4 << 20)
        var header = ByteBuffer()
        header.writeMultipleIntegers(UInt32.max, UInt8(1), UInt8(1), UInt8(0), UInt8(0), UInt32(1))
        #expect(throws: FrameError.tooLarge(length: .max, maximum: 4 << 20)) { try channel.writeInbound(header) }
    }

    @Test("an unknown version, type or flag is a clear error")
    func unknownHeaderValues() throws {
        var badVersion = ByteBuffer()
        badVersion.writeMultipleIntegers(UInt32(0), UInt8(2), UInt8(1), UInt8(0), UInt8(0), UInt32(1))
        #expect(throws: FrameError.unsupportedVersion(2)) { try self.channel().writeInbound(badVersion) }

        var badType = ByteBuffer()
        badType.writeMultipleIntegers(UInt32(0), UInt8(1), UInt8(99), UInt8(0), UInt8(0), UInt32(1))
        #expect(throws: FrameError.unknownType(99)) { try self.channel().writeInbound(badType) }

        var badFlags = ByteBuffer()
        badFlags.writeMultipleIntegers(UInt32(0), UInt8(1), UInt8(1), UInt8(0x80), UInt8(0), UInt32(1))
        #expect(throws: FrameError.unknownFlags(0x80)) { try self.channel().writeInbound(badFlags) }
    }

    @Test("garbage bytes are an error, never a crash")
    func garbage() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let channel = try channel(maximum: 256)
            let bytes = (0..<Int.random(in: 1...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            do {
                try channel.writeInbound(ByteBuffer(bytes: bytes))
                while try channel.readInbound(as: Frame.self) != nil {}
                _ = try? channel.finish()
            } catch is FrameError {
                // Expected for most inputs.
            }
        }
    }

    @Test("a connection closed inside a frame reports a truncated frame")
    func truncated() throws {
        let channel = try channel()
        let bytes = frameBytes(payload: [1, 2, 3, 4])
        try channel.writeInbound(bytes.getSlice(at: 0, length: 14)!)
        #expect(throws: FrameError.truncated(bufferedBytes: 14)) { _ = try channel.finish() }
    }

    @Test("the decoder passes NIO's ByteToMessageDecoderVerifier")
    func verifier() throws {
        let frames = (1...5).map {
            Frame(type: .message, flags: .end, requestID: UInt32($0), payload: ByteBuffer(bytes: [UInt8]($0 % 2 == 0 ? [1, 2, 3] : [])))
        }
        var input = ByteBuffer()
        for frame in frames { input.writeFrame(frame) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(input, frames)],
            decoderFactory: { FrameDecoder(maximumPayloadSize: 1024) })
    }
}
