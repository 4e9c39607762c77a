import Glibc

/// Streams records into a snapshot file: length-prefixes them, compresses them with zstd, and
/// writes the compressed bytes as they come, never holding the whole snapshot in memory.
///
/// Finishing ends the last frame, writes the real header over the reserved one, and `fsync`s the
/// file. Renaming it into place is the caller's step.
package final class SnapshotEncoder {
    /// Input is compressed in pieces of this size.
    static let stagingBytes = 256 << 10
    /// A new zstd frame starts after this much input, so damage is located to within one frame.
    static let frameInputBytes = 8 << 20
    /// Compressed output is written in pieces of up to this size.
    static let outputBytes = 1 << 20

    /// The file being written.
    package let path: String
    private let file: PosixFile
    private let compressor: ZstdCompressor
    private let coveredSequence: UInt64
    private let staging: UnsafeMutableRawBufferPointer
    private let output: UnsafeMutableRawBufferPointer
    private var staged = 0
    private var frameInput = 0
    private var contentBytes: UInt64 = 0
    private var contentCRC = CRC32C()
    /// Records appended so far.
    private(set) var recordCount: UInt64 = 0
    /// Bytes of the uncompressed record stream so far.
    private(set) var uncompressedBytes: UInt64 = 0
    private let maxRecordBytes: Int
    private var finished = false

    /// Creates (or truncates) `path` and reserves its header.
    package init(
        path: String, coveredSequence: UInt64, level: Int32, workers: Int32 = 0, maxRecordBytes: Int, faults: FaultInjection?
    ) throws(StorageError) {
        self.path = path
        self.coveredSequence = coveredSequence
        self.maxRecordBytes = maxRecordBytes
        self.file = try PosixFile(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC, faults: faults)
        self.compressor = try ZstdCompressor(level: level, workers: workers)
        self.staging = .allocate(byteCount: Self.stagingBytes, alignment: 16)
        self.output = .allocate(byteCount: Self.outputBytes, alignment: 16)
        let reserved = [UInt8](repeating: 0, count: SnapshotHeader.size)
        try reserved.withBytes { (bytes) throws(StorageError) in try file.writeAll(bytes) }
    }

    deinit {
        staging.deallocate()
        output.deallocate()
    }

    /// Adds one record (a u32 length, then its bytes, in the uncompressed stream).
    package func append(_ record: UnsafeRawBufferPointer) throws(StorageError) {
        guard record.count <= maxRecordBytes else {
            throw .recordTooLarge(size: record.count, limit: maxRecordBytes)
        }
        if staged + 4 > staging.count { try flushStaging(endFrame: false) }
        staging.baseAddress.unsafelyUnwrapped.storeLittleEndian(UInt32(record.count), at: staged)
        staged += 4
        if staged + record.count <= staging.count {
            if let source = record.baseAddress, !record.isEmpty {
                (staging.baseAddress.unsafelyUnwrapped + staged).copyMemory(from: source, byteCount: record.count)
            }
            staged += record.count
        } else {
            try flushStaging(endFrame: false)
            try compress(record, endFrame: false)
        }
        recordCount += 1
        uncompressedBytes += UInt64(4 + record.count)
    }

    /// Ends the stream, writes the header, and `fsync`s the file. Returns the header written.
    package func finish() throws(StorageError) -> SnapshotHeader {
        try flushStaging(endFrame: true)
        let header = SnapshotHeader(
            coveredSequence: coveredSequence, recordCount: recordCount, contentBytes: contentBytes,
            uncompressedBytes: uncompressedBytes, contentChecksum: contentCRC.value)
        try header.encoded().withBytes { (bytes) throws(StorageError) in try file.writeAll(bytes, at: 0) }
        try file.sync()
        file.close()
        finished = true
        return header
    }

    /// Closes and removes the unfinished file (after an error in the caller's body).
    package func abandon() {
        file.close()
        _ = unlink(path)
    }

    private func flushStaging(endFrame: Bool) throws(StorageError) {
        let endsFrame = endFrame || frameInput + staged >= Self.frameInputBytes
        let input = UnsafeRawBufferPointer(rebasing: staging[0..<staged])
        try compress(input, endFrame: endsFrame)
        staged = 0
    }

    private func compress(_ input: UnsafeRawBufferPointer, endFrame: Bool) throws(StorageError) {
        try compressor.compress(input, endFrame: endFrame, output: output) { (bytes) throws(StorageError) in
            contentCRC.update(bytes)
            contentBytes += UInt64(bytes.count)
            try file.writeAll(bytes)
        }
        frameInput = endFrame ? 0 : frameInput + input.count
    }
}
