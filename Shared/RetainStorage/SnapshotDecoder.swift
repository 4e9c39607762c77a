import Glibc

/// Reads a snapshot file back: validates the header and the content checksum first, then streams
/// the zstd frames through `ZSTD_decompressStream` and cuts the record stream into records.
///
/// Memory stays bounded by the read and output buffers (plus the largest record), whatever the
/// snapshot's size. A record returned by ``next()`` stays valid until the following call.
package final class SnapshotDecoder {
    static let inputBytes = 1 << 20
    static let outputBytes = 1 << 20

    /// The snapshot's path.
    package let path: String
    /// The validated header.
    package let header: SnapshotHeader
    /// The file's size.
    package let fileSize: Int64

    private let file: PosixFile
    private let decompressor: ZstdDecompressor
    private let maxRecordBytes: Int
    private let input: UnsafeMutableRawBufferPointer
    private var inputFilled = 0
    private var inputPosition = 0
    /// File offset of `input[0]`.
    private var inputOffset = Int64(SnapshotHeader.size)
    /// File offset where the frame being decoded starts.
    private var frameStart = Int64(SnapshotHeader.size)
    private var frameOpen = false
    private var output: UnsafeMutableRawBufferPointer
    private var outputFilled = 0
    private var outputPosition = 0
    private var recordsRead: UInt64 = 0
    private var streamBytes: UInt64 = 0

    /// Opens `path`, checks its header, its size and the CRC32C of its whole content.
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
        self.decompressor = try ZstdDecompressor()
        self.input = .allocate(byteCount: Self.inputBytes, alignment: 16)
        self.output = .allocate(byteCount: Self.outputBytes, alignment: 16)
        // Fully initialised: if this throws, `deinit` frees the buffers.
        try verifyContentChecksum()
    }

    deinit {
        input.deallocate()
        output.deallocate()
    }

    /// Records returned so far.
    package var recordsReturned: UInt64 { recordsRead }

    /// The next record, or `nil` after the last one (once its count and stream length are checked).
    package func next() throws(StorageError) -> UnsafeRawBufferPointer? {
        while true {
            let available = outputFilled - outputPosition
            if available >= 4 {
                let start = UnsafeRawPointer(output.baseAddress.unsafelyUnwrapped) + outputPosition
                let length = Int(start.loadLittleEndian(at: 0, as: UInt32.self))
                guard length <= maxRecordBytes else {
                    throw .corrupt(
                        file: path, offset: frameStart,
                        reason: "record \(recordsRead + 1) claims \(length) bytes, above the limit of \(maxRecordBytes)")
                }
                if available >= 4 + length {
                    outputPosition += 4 + length
                    recordsRead += 1
                    return UnsafeRawBufferPointer(start: start + 4, count: length)
                }
                try makeRoom(for: 4 + length)
            } else {
                try makeRoom(for: 4)
            }
            if try !decompressMore() {
                guard outputFilled == outputPosition else {
                    throw .corrupt(
                        file: path, offset: fileSize,
                        reason: "record stream ends inside record \(recordsRead + 1)")
                }
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
        }
    }

    /// Reads whatever the caller left unread, so the counts and checksums are verified.
    package func finish() throws(StorageError) {
        while try next() != nil {}
    }

    /// Moves unread output to the front and grows the buffer so `needed` bytes fit.
    private func makeRoom(for needed: Int) throws(StorageError) {
        let unread = outputFilled - outputPosition
        let base = output.baseAddress.unsafelyUnwrapped
        if outputPosition > 0 {
            if unread > 0 { memmove(base, base + outputPosition, unread) }
            outputFilled = unread
            outputPosition = 0
        }
        if needed > output.count {
            var size = output.count
            while size < needed { size *= 2 }
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            if unread > 0 { larger.baseAddress.unsafelyUnwrapped.copyMemory(from: base, byteCount: unread) }
            output.deallocate()
            output = larger
        }
    }

    /// Decompresses into the free end of the output buffer; `false` once the content is exhausted.
    private func decompressMore() throws(StorageError) -> Bool {
        let contentEnd = fileSize
        while true {
            if inputPosition == inputFilled {
                inputOffset += Int64(inputFilled)
                inputPosition = 0
                inputFilled = 0
                let left = contentEnd - inputOffset
                if left <= 0 {
                    if frameOpen {
                        throw .corrupt(file: path, offset: frameStart, reason: "the last zstd frame is incomplete")
                    }
                    return false
                }
                let chunk = UnsafeMutableRawBufferPointer(rebasing: input[0..<Int(min(Int64(input.count), left))])
                inputFilled = try file.read(into: chunk, at: inputOffset)
                if inputFilled == 0 {
                    throw .corrupt(file: path, offset: inputOffset, reason: "file shrank while being read")
                }
            }
            let source = UnsafeRawBufferPointer(rebasing: input[inputPosition..<inputFilled])
            let target = UnsafeMutableRawBufferPointer(rebasing: output[outputFilled...])
            let progress: ZstdDecompressor.Progress
            do throws(ZstdDecompressor.ZstdFailure) {
                progress = try decompressor.decompress(source, into: target)
            } catch {
                throw .corrupt(file: path, offset: frameStart, reason: "zstd frame cannot be decoded: \(error.message)")
            }
            if progress.consumed > 0 || progress.produced > 0 { frameOpen = true }
            inputPosition += progress.consumed
            outputFilled += progress.produced
            streamBytes += UInt64(progress.produced)
            if progress.frameEnded {
                frameOpen = false
                frameStart = inputOffset + Int64(inputPosition)
            }
            if progress.produced > 0 { return true }
        }
    }

    /// Reads the whole content once and compares its CRC32C with the header's.
    private func verifyContentChecksum() throws(StorageError) {
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
            let damage = locateDamage()
            throw .corrupt(
                file: path, offset: damage?.offset ?? Int64(SnapshotHeader.size),
                reason: "content checksum mismatch (stored \(hex(header.contentChecksum)), computed \(hex(crc.value)))"
                    + (damage.map { "; first bad zstd frame: \($0.reason)" } ?? ""))
        }
    }

    /// Decodes the content without handing out records, to find the frame the damage is in.
    private func locateDamage() -> (offset: Int64, reason: String)? {
        do {
            while try decompressMoreDiscarding() {}
        } catch StorageError.corrupt(_, let offset, let reason) {
            return (offset, reason)
        } catch {
            return nil
        }
        return nil
    }

    private func decompressMoreDiscarding() throws(StorageError) -> Bool {
        outputFilled = 0
        outputPosition = 0
        return try decompressMore()
    }
}
