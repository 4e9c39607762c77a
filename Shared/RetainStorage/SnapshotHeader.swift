/// The 64-byte header at the start of every snapshot file (`snapshot-<covered>.snap`).
///
/// All integers are little-endian.
///
///     0          8        12       16                  24                  32
///     +----------+--------+--------+-------------------+-------------------+
///     |  magic   |version | header | covered sequence  |   record count    |
///     |"RETAINSN"|  u32=1 |size=64 |       u64         |       u64         |
///     +----------+--------+--------+-------------------+-------------------+
///     32                  40                  48       52       56       60       64
///     +-------------------+-------------------+--------+--------+--------+--------+
///     |   content bytes   | uncompressed bytes|content | codec  |reserved| header |
///     |  (compressed) u64 |       u64         | CRC32C |1 = zstd| u32=0  | CRC32C |
///     +-------------------+-------------------+--------+--------+--------+--------+
///
/// The content follows the header: `content bytes` of concatenated zstd frames (each with the
/// zstd content checksum, `ZSTD_c_checksumFlag`). Decompressed, the frames form one stream of
/// `record count` records, each a little-endian u32 length then that many bytes; `uncompressed
/// bytes` is the stream's length. The content CRC32C covers the compressed bytes; the header
/// CRC32C covers header bytes 0..<60.
///
/// The writer reserves the header with zeros, streams the content, then writes the real header
/// at offset 0, syncs, and renames the file from its `.tmp` name: a `.snap` file is complete.
package struct SnapshotHeader: Sendable, Equatable {
    /// Bytes in the header.
    package static let size = 64
    /// The snapshot format this code writes and reads.
    package static let formatVersion: UInt32 = 1
    /// `"RETAINSN"`.
    package static let magic: [UInt8] = Array("RETAINSN".utf8)
    /// The codec number for zstd.
    package static let zstdCodec: UInt32 = 1

    /// The snapshot holds the state after every record up to and including this sequence.
    package var coveredSequence: UInt64
    /// Records in the snapshot.
    package var recordCount: UInt64
    /// Compressed bytes after the header.
    package var contentBytes: UInt64
    /// Bytes of the decompressed record stream (length prefixes included).
    package var uncompressedBytes: UInt64
    /// CRC32C of the compressed content.
    package var contentChecksum: UInt32

    /// The header's 64 bytes.
    package func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            for (index, byte) in Self.magic.enumerated() { raw[index] = byte }
            base.storeLittleEndian(Self.formatVersion, at: 8)
            base.storeLittleEndian(UInt32(Self.size), at: 12)
            base.storeLittleEndian(coveredSequence, at: 16)
            base.storeLittleEndian(recordCount, at: 24)
            base.storeLittleEndian(contentBytes, at: 32)
            base.storeLittleEndian(uncompressedBytes, at: 40)
            base.storeLittleEndian(contentChecksum, at: 48)
            base.storeLittleEndian(Self.zstdCodec, at: 52)
            base.storeLittleEndian(UInt32(0), at: 56)
            base.storeLittleEndian(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<60])), at: 60)
        }
        return bytes
    }

    /// Parses and checks a header read from offset 0 of `file`.
    package static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws(StorageError) -> SnapshotHeader {
        guard bytes.count >= size else {
            throw .corrupt(file: file, offset: 0, reason: "snapshot header truncated: \(bytes.count) of \(size) bytes")
        }
        guard bytes.prefix(8).elementsEqual(magic) else {
            throw .corrupt(file: file, offset: 0, reason: "not a snapshot (bad magic)")
        }
        let stored = bytes.loadLittleEndian(at: 60, as: UInt32.self)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<60]))
        guard stored == computed else {
            throw .corrupt(
                file: file, offset: 0,
                reason: "snapshot header checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))")
        }
        let version = bytes.loadLittleEndian(at: 8, as: UInt32.self)
        guard version == formatVersion else {
            throw .corrupt(file: file, offset: 8, reason: "unsupported snapshot format version \(version)")
        }
        let headerSize = bytes.loadLittleEndian(at: 12, as: UInt32.self)
        guard headerSize == UInt32(size) else {
            throw .corrupt(file: file, offset: 12, reason: "unexpected snapshot header size \(headerSize)")
        }
        let codec = bytes.loadLittleEndian(at: 52, as: UInt32.self)
        guard codec == zstdCodec else {
            throw .corrupt(file: file, offset: 52, reason: "unknown snapshot codec \(codec)")
        }
        return SnapshotHeader(
            coveredSequence: bytes.loadLittleEndian(at: 16, as: UInt64.self),
            recordCount: bytes.loadLittleEndian(at: 24, as: UInt64.self),
            contentBytes: bytes.loadLittleEndian(at: 32, as: UInt64.self),
            uncompressedBytes: bytes.loadLittleEndian(at: 40, as: UInt64.self),
            contentChecksum: bytes.loadLittleEndian(at: 48, as: UInt32.self))
    }
}
