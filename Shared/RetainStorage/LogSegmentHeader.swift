/// The 32-byte header at the start of every log segment file (`log-<first>.wal`).
///
/// All integers are little-endian.
///
///     0          8        12       16                  24       28       32
///     +----------+--------+--------+-------------------+--------+--------+
///     |  magic   |version | header |  first sequence   |reserved| header |
///     |"RETAINLG"|  u32=1 |size=32 |       u64         | u32=0  | CRC32C |
///     +----------+--------+--------+-------------------+--------+--------+
///
/// The CRC32C covers bytes 0..<28. A new segment is written under a temporary name, synced and
/// renamed, so a file named `log-*.wal` always starts with a complete header.
package struct LogSegmentHeader: Sendable, Equatable {
    /// Bytes in the header.
    package static let size = 32
    /// The segment format this code writes and reads.
    package static let formatVersion: UInt32 = 1
    /// `"RETAINLG"`.
    package static let magic: [UInt8] = Array("RETAINLG".utf8)

    /// The sequence of the segment's first record (the segment may hold none yet).
    package var firstSequence: UInt64

    /// A header for a segment starting at `firstSequence`.
    package init(firstSequence: UInt64) {
        self.firstSequence = firstSequence
    }

    /// The header's 32 bytes.
    package func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            for (index, byte) in Self.magic.enumerated() { raw[index] = byte }
            base.storeLittleEndian(Self.formatVersion, at: 8)
            base.storeLittleEndian(UInt32(Self.size), at: 12)
            base.storeLittleEndian(firstSequence, at: 16)
            base.storeLittleEndian(UInt32(0), at: 24)
            base.storeLittleEndian(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<28])), at: 28)
        }
        return bytes
    }

    /// Parses and checks a header; `bytes` holds what the file has at offset 0 (up to 32 bytes).
    package static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws(StorageError) -> LogSegmentHeader {
        guard bytes.count >= size else {
            throw .corrupt(file: file, offset: 0, reason: "segment header truncated: \(bytes.count) of \(size) bytes")
        }
        guard bytes.prefix(8).elementsEqual(magic) else {
            throw .corrupt(file: file, offset: 0, reason: "not a log segment (bad magic)")
        }
        let stored = bytes.loadLittleEndian(at: 28, as: UInt32.self)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<28]))
        guard stored == computed else {
            throw .corrupt(file: file, offset: 0, reason: "segment header checksum mismatch")
        }
        let version = bytes.loadLittleEndian(at: 8, as: UInt32.self)
        guard version == formatVersion else {
            throw .corrupt(file: file, offset: 8, reason: "unsupported segment format version \(version)")
        }
        let headerSize = bytes.loadLittleEndian(at: 12, as: UInt32.self)
        guard headerSize == UInt32(size) else {
            throw .corrupt(file: file, offset: 12, reason: "unexpected segment header size \(headerSize)")
        }
        return LogSegmentHeader(firstSequence: bytes.loadLittleEndian(at: 16, as: UInt64.self))
    }
}
