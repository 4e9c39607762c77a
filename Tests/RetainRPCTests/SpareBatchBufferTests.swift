import NIOCore
@testable import RetainRPC
import Testing

@Suite("the spare batch buffer")
struct SpareBatchBufferTests {
    let allocator = ByteBufferAllocator()

    @Test("a batch the channel has released is reused, cleared, for the next one")
    func reusedWhenReleased() {
        var spare = SpareBatchBuffer()
        var batch = spare.take(allocator: allocator)
        batch.writeString("first batch of answers")
        let firstBytes = batch.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        spare.keep(batch)
        batch = ByteBuffer()  // the channel wrote it and let go
        var next = spare.take(allocator: allocator)
        #expect(next.readableBytes == 0)
        #expect(next.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } == firstBytes)
        next.writeString("second")
        #expect(next.readString(length: next.readableBytes) == "second")
    }

    @Test("a batch the channel still holds is never written over")
    func heldBatchUntouched() {
        var spare = SpareBatchBuffer()
        var batch = spare.take(allocator: allocator)
        batch.writeString("answers still being written")
        spare.keep(batch)
        let held = batch  // the channel's pending write
        var next = spare.take(allocator: allocator)
        next.writeString("new answers")
        #expect(held.getString(at: held.readerIndex, length: held.readableBytes) == "answers still being written")
        #expect(next.getString(at: next.readerIndex, length: next.readableBytes) == "new answers")
    }

    @Test("large batches are not kept")
    func largeNotKept() {
        var spare = SpareBatchBuffer()
        var batch = allocator.buffer(capacity: SpareBatchBuffer.largestKept * 2)
        batch.writeRepeatingByte(1, count: SpareBatchBuffer.largestKept + 1)
        spare.keep(batch)
        batch = ByteBuffer()
        let next = spare.take(allocator: allocator)
        #expect(next.capacity < SpareBatchBuffer.largestKept)
    }
}
