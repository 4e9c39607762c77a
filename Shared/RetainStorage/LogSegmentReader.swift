import Glibc

/// Reads the records of one log segment in order, checking each frame's length and checksum.
///
/// Damage is reported as a ``Step/damaged(offset:reason:)`` step rather than thrown, so the
/// caller decides whether it is a torn tail (crash mid-append) or corruption; only I/O errors
/// throw. A record's payload stays valid until the next call to ``next()``.
package final class LogSegmentReader {
    /// One step through the segment.
    package enum Step {
        /// A whole record whose checksum matches, starting at `offset`.
        case record(sequence: UInt64, payload: UnsafeRawBufferPointer, offset: Int64)
        /// The file ends exactly after the previous record, or only zeros follow it (the
        /// segment's preallocated tail, see ``SegmentWriter``).
        case end
        /// The bytes at `offset` are not a valid record.
        case damaged(offset: Int64, reason: String)
    }

    /// The segment's path.
    package let path: String
    /// The segment's validated header.
    package let header: LogSegmentHeader
    /// The file's size when it was opened.
    package let fileSize: Int64

    private let file: PosixFile
    private var buffer: UnsafeMutableRawBufferPointer
    /// File offset of `buffer[0]`.
    private var bufferOffset: Int64
    /// Valid bytes in `buffer`.
    private var filled = 0
    /// Index in `buffer` of the next record.
    private var position = 0
    /// Where ``onlyZeros(from:)`` last looked, and what it found.
    private var zeroTail: (offset: Int64, zeros: Bool)?

    /// Opens `path` and validates its header (throwing ``StorageError/corrupt(file:offset:reason:)``).
    package init(path: String, bufferSize: Int = 1 << 20) throws(StorageError) {
        let file = try PosixFile(path: path, flags: O_RDONLY)
        let fileSize = try file.size()
        var headerBytes = [UInt8](repeating: 0, count: LogSegmentHeader.size)
        let count = try headerBytes.withMutableBytes { (raw) throws(StorageError) -> Int in
            try file.read(into: raw, at: 0)
        }
        let header = try headerBytes.withBytes { (raw) throws(StorageError) -> LogSegmentHeader in
            try LogSegmentHeader.decode(UnsafeRawBufferPointer(rebasing: raw[0..<count]), file: path)
        }
        self.path = path
        self.file = file
        self.fileSize = fileSize
        self.header = header
        self.buffer = .allocate(byteCount: max(bufferSize, 4096), alignment: 16)
        self.bufferOffset = Int64(LogSegmentHeader.size)
    }

    deinit {
        buffer.deallocate()
    }

    /// The file offset just after the last record returned (where the next one starts).
    package var offset: Int64 { bufferOffset + Int64(position) }

    /// The next record, the end, or the damage that stops reading.
    package func next() throws(StorageError) -> Step {
        let recordOffset = offset
        let remaining = fileSize - recordOffset
        if remaining == 0 { return .end }
        let headerSize = LogRecordFrame.headerSize
        guard remaining >= Int64(headerSize) else {
            if try onlyZeros(from: recordOffset) { return .end }
            return .damaged(offset: recordOffset, reason: "incomplete record header (\(remaining) bytes before end of file)")
        }
        try ensureAvailable(headerSize)
        let start = UnsafeRawPointer(buffer.baseAddress.unsafelyUnwrapped) + position
        let length = start.loadLittleEndian(at: 0, as: UInt32.self)
        let stored = start.loadLittleEndian(at: 4, as: UInt32.self)
        let sequence = start.loadLittleEndian(at: 8, as: UInt64.self)
        // No record has sequence 0: an all-zero header is the preallocated tail when nothing
        // but zeros follows it (anything else after it is damage, as before).
        if length == 0, stored == 0, sequence == 0, try onlyZeros(from: recordOffset) { return .end }
        guard Int(length) <= LogRecordFrame.formatMaximumPayload else {
            return .damaged(offset: recordOffset, reason: "record length \(length) exceeds the format limit")
        }
        let frameSize = headerSize + Int(length)
        guard Int64(frameSize) <= remaining else {
            return .damaged(
                offset: recordOffset,
                reason: "record of \(length) bytes extends past the end of the file (\(remaining) bytes left)")
        }
        try ensureAvailable(frameSize)
        let frame = UnsafeRawPointer(buffer.baseAddress.unsafelyUnwrapped) + position
        let payload = UnsafeRawBufferPointer(start: frame + headerSize, count: Int(length))
        var crc = CRC32C()
        crc.update(payload)
        let computed = LogRecordFrame.checksum(payloadCRC: crc, length: length, sequence: sequence)
        guard computed == stored else {
            return .damaged(
                offset: recordOffset,
                reason: "record checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))")
        }
        position += frameSize
        return .record(sequence: sequence, payload: payload, offset: recordOffset)
    }

    /// The first valid record after `offset` whose sequence satisfies `accept`, found by trying
    /// every byte position; `nil` if the rest of the file holds none.
    ///
    /// A torn append leaves nothing valid behind it; damage followed by a valid record is not a
    /// torn tail but corruption in the middle of the log.
    package func findValidRecord(
        after offset: Int64, where accept: (UInt64) -> Bool
    ) throws(StorageError) -> (offset: Int64, sequence: UInt64)? {
        let start = offset + 1
        let length = Int(max(0, fileSize - start))
        guard length >= LogRecordFrame.headerSize else { return nil }
        let region = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 16)
        defer { region.deallocate() }
        let count = try file.read(into: region, at: start)
        let bytes = UnsafeRawBufferPointer(rebasing: region[0..<count])
        let headerSize = LogRecordFrame.headerSize
        var index = 0
        while index + headerSize <= count {
            let candidateLength = Int(bytes.loadLittleEndian(at: index, as: UInt32.self))
            let candidateSequence = bytes.loadLittleEndian(at: index + 8, as: UInt64.self)
            if candidateLength <= count - index - headerSize, accept(candidateSequence) {
                let payloadStart = index + headerSize
                var crc = CRC32C()
                crc.update(UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<(payloadStart + candidateLength)]))
                let computed = LogRecordFrame.checksum(
                    payloadCRC: crc, length: UInt32(candidateLength), sequence: candidateSequence)
                if computed == bytes.loadLittleEndian(at: index + 4, as: UInt32.self) {
                    return (start + Int64(index), candidateSequence)
                }
            }
            index += 1
        }
        return nil
    }

    /// Whether every byte from `offset` to the end of the file is zero (read once per offset).
    private func onlyZeros(from offset: Int64) throws(StorageError) -> Bool {
        if let zeroTail, zeroTail.offset == offset { return zeroTail.zeros }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { chunk.deallocate() }
        var at = offset
        var zeros = true
        scan: while at < fileSize {
            let count = try file.read(into: chunk, at: at)
            if count == 0 { break }
            let words = count / 8
            let base = chunk.baseAddress.unsafelyUnwrapped
            for index in 0..<words where base.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) != 0 {
                zeros = false
                break scan
            }
            for index in (words * 8)..<count where chunk[index] != 0 {
                zeros = false
                break scan
            }
            at += Int64(count)
        }
        zeroTail = (offset, zeros)
        return zeros
    }

    /// Continues reading at `offset`, which must be the start of a record.
    package func seek(to offset: Int64) {
        bufferOffset = offset
        filled = 0
        position = 0
    }

    /// Makes at least `needed` bytes available from `position`, reading and growing as required.
    private func ensureAvailable(_ needed: Int) throws(StorageError) {
        if filled - position >= needed { return }
        if position > 0 {
            let base = buffer.baseAddress.unsafelyUnwrapped
            let kept = filled - position
            if kept > 0 { memmove(base, base + position, kept) }
            bufferOffset += Int64(position)
            filled = kept
            position = 0
        }
        if needed > buffer.count {
            var newSize = buffer.count
            while newSize < needed { newSize *= 2 }
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: newSize, alignment: 16)
            if filled > 0 {
                larger.baseAddress.unsafelyUnwrapped.copyMemory(from: buffer.baseAddress.unsafelyUnwrapped, byteCount: filled)
            }
            buffer.deallocate()
            buffer = larger
        }
        while filled < needed {
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[filled...])
            let read = try file.read(into: target, at: bufferOffset + Int64(filled))
            if read == 0 {
                throw .corrupt(file: path, offset: bufferOffset + Int64(filled), reason: "file shrank while being read")
            }
            filled += read
        }
    }
}
