import Glibc

/// Reads a snapshot file back: validates the header and the content checksum first, then
/// cuts the record stream into records while a ``SnapshotInflater`` thread decompresses the zstd
/// frames a few blocks ahead (`ZSTD_decompressStream`).
///
/// Memory stays bounded by the inflater's blocks and the read buffer (plus the largest record),
/// whatever the snapshot's size. A record returned by ``next()`` stays valid until the following call.
package final class SnapshotDecoder {
    static let inputBytes = 1 << 20

    /// The snapshot's path.
    package let path: String
    /// The validated header.
    package let header: SnapshotHeader
    /// The file's size.
    package let fileSize: Int64

    private let file: PosixFile
    private let maxRecordBytes: Int
    private let inflater: SnapshotInflater
    /// The block records are being cut from, and the position in it.
    private var current: SnapshotInflater.Block?
    private var position = 0
    /// Where a record that spans blocks is put together.
    private var scratch: UnsafeMutableRawBufferPointer
    /// Whether the inflater reported the end of the content.
    private var ended = false
    /// The inflater's failure, thrown again by every later call.
    private var failure: StorageError?
    private var recordsRead: UInt64 = 0
    private var streamBytes: UInt64 = 0

    /// Opens `path`, checks its header, its size and the CRC32C of its whole content, then starts
    /// decompressing it.
    package init(path: String, maxRecordBytes: Int = LogRecordFrame.formatMaximumPayload) throws(StorageError) {
        let file = try PosixFile(path: path, flags: O_RDONLY)
        let fileSize = try file.size()
        var headerBytes = [UInt8](repeating: 0, count: SnapshotHeader.size)
        let count = try headerBytes.withMutableBytes { (raw) throws(StorageError) -> Int in
            try file.read(into: raw, at: 0)
        }
        let header = try headerBytes.withBytes { (raw) throws(StorageError) -> SnapshotHeader in
            try SnapshotHeader.decode(UnsafeRawBufferPointer(rebasing: raw[0..<count]), file: path)
        }
        let expectedSize = Int64(SnapshotHeader.size) + Int64(header.contentBytes)
        guard fileSize == expectedSize else {
            throw .corrupt(
                file: path, offset: min(fileSize, expectedSize),
                reason: "file is \(fileSize) bytes but its header describes \(expectedSize)")
        }
        self.path = path
        self.file = file
        self.fileSize = fileSize
        self.header = header
        self.maxRecordBytes = maxRecordBytes
        self.inflater = try SnapshotInflater(path: path, file: file, fileSize: fileSize)
        self.scratch = .allocate(byteCount: 64 << 10, alignment: 16)
        // Fully initialised: if this throws, `deinit` frees the buffers.
        try verifyContentChecksum()
        try inflater.start()
    }

    deinit {
        inflater.stop()
        scratch.deallocate()
    }

    /// Records returned so far.
    package var recordsReturned: UInt64 { recordsRead }

    /// The next record, or `nil` after the last one (once its count and stream length are checked).
    package func next() throws(StorageError) -> UnsafeRawBufferPointer? {
        guard let prefix = try take(4, atRecordStart: true) else {
            guard recordsRead == header.recordCount else {
                throw .corrupt(
                    file: path, offset: fileSize,
                    reason: "holds \(recordsRead) records but its header says \(header.recordCount)")
            }
            guard streamBytes == header.uncompressedBytes else {
                throw .corrupt(
                    file: path, offset: fileSize,
                    reason: "decompresses to \(streamBytes) bytes but its header says \(header.uncompressedBytes)")
            }
            return nil
        }
        let length = Int(prefix.loadLittleEndian(at: 0, as: UInt32.self))
        guard length <= maxRecordBytes else {
            throw .corrupt(
                file: path, offset: current?.frameStart ?? Int64(SnapshotHeader.size),
                reason: "record \(recordsRead + 1) claims \(length) bytes, above the limit of \(maxRecordBytes)")
        }
        let record = try take(length, atRecordStart: false)!
        recordsRead += 1
        return record
    }

    /// Reads whatever the caller left unread, so the counts and checksums are verified.
    package func finish() throws(StorageError) {
        while try next() != nil {}
    }

    /// The next `count` bytes of the stream, in place when one block holds them, else put
    /// together in `scratch`; nil when the stream ends before them at a record's start.
    private func take(_ count: Int, atRecordStart: Bool) throws(StorageError) -> UnsafeRawBufferPointer? {
        if let block = current, block.count - position >= count {
            defer { position += count }
            return UnsafeRawBufferPointer(rebasing: block.memory[position..<position + count])
        }
        if count > scratch.count {
            var size = scratch.count
            while size < count { size *= 2 }
            scratch.deallocate()
            scratch = .allocate(byteCount: size, alignment: 16)
        }
        var gathered = 0
        while true {
            if let block = current {
                let piece = min(count - gathered, block.count - position)
                if piece > 0 {
                    if gathered == 0, piece == count {
                        defer { position += count }
                        return UnsafeRawBufferPointer(rebasing: block.memory[position..<position + count])
                    }
                    (scratch.baseAddress.unsafelyUnwrapped + gathered).copyMemory(
                        from: block.memory.baseAddress.unsafelyUnwrapped + position, byteCount: piece)
                    gathered += piece
                    position += piece
                }
                if gathered == count { return UnsafeRawBufferPointer(rebasing: scratch[0..<count]) }
                inflater.recycle(block)
                current = nil
            }
            guard try nextBlock() else {
                if gathered == 0, atRecordStart { return nil }
                throw .corrupt(
                    file: path, offset: fileSize, reason: "record stream ends inside record \(recordsRead + 1)")
            }
        }
    }

    /// Moves to the inflater's next block; false at the end of the stream.
    private func nextBlock() throws(StorageError) -> Bool {
        if let failure { throw failure }
        if ended { return false }
        switch inflater.take() {
        case .block(let block):
            current = block
            position = 0
            streamBytes += UInt64(block.count)
            return true
        case .end:
            ended = true
            return false
        case .failure(let error):
            failure = error
            throw error
        }
    }
    /// Reads the whole content once and compares its CRC32C with the header's.
    private func verifyContentChecksum() throws(StorageError) {
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.inputBytes, alignment: 16)
        defer { input.deallocate() }
        var crc = CRC32C()
        var offset = Int64(SnapshotHeader.size)
        while offset < fileSize {
            let chunk = UnsafeMutableRawBufferPointer(rebasing: input[0..<Int(min(Int64(input.count), fileSize - offset))])
            let read = try file.read(into: chunk, at: offset)
            guard read > 0 else {
                throw .corrupt(file: path, offset: offset, reason: "file shrank while being read")
            }
            crc.update(UnsafeRawBufferPointer(rebasing: chunk[0..<read]))
            offset += Int64(read)
        }
        guard crc.value == header.contentChecksum else {
            let damage = inflater.locateDamage()
            throw .corrupt(
                file: path, offset: damage?.offset ?? Int64(SnapshotHeader.size),
                reason: "content checksum mismatch (stored \(hex(header.contentChecksum)), computed \(hex(crc.value)))"
                    + (damage.map { "; first bad zstd frame: \($0.reason)" } ?? ""))
        }
    }
}
