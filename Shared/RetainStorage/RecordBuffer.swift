/// A growable byte buffer of framed log records, filled by appenders and drained by the committer.
///
/// Two of these alternate: appenders fill one under the commit lock while the committer writes
/// the other. Ownership passes only under that lock, hence `@unchecked Sendable`.
package final class RecordBuffer: @unchecked Sendable {
    private var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// Bytes filled.
    private(set) var count: Int = 0
    /// Records in the buffer.
    private(set) var records: Int = 0

    /// An empty buffer with room for `capacity` bytes before it grows.
    package init(capacity: Int) {
        self.capacity = max(capacity, 64)
        self.base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit {
        base.deallocate()
    }

    /// Whether no record is buffered.
    package var isEmpty: Bool { count == 0 }

    /// Appends one framed record.
    package func appendRecord(_ payload: UnsafeRawBufferPointer, payloadCRC: CRC32C, sequence: UInt64) {
        let length = UInt32(truncatingIfNeeded: payload.count)
        let needed = LogRecordFrame.headerSize + payload.count
        if count + needed > capacity { grow(toFit: count + needed) }
        let destination = base + count
        LogRecordFrame.storeHeader(
            at: destination, length: length,
            checksum: LogRecordFrame.checksum(payloadCRC: payloadCRC, length: length, sequence: sequence),
            sequence: sequence)
        if let source = payload.baseAddress, !payload.isEmpty {
            (destination + LogRecordFrame.headerSize).copyMemory(from: source, byteCount: payload.count)
        }
        count += needed
        records += 1
    }

    /// Calls `body` with the filled bytes.
    package func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Empties the buffer; gives back memory beyond `keepingCapacity` bytes.
    package func reset(keepingCapacity limit: Int) {
        count = 0
        records = 0
        if capacity > limit {
            base.deallocate()
            capacity = max(limit, 64)
            base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        }
    }

    private func grow(toFit needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}
