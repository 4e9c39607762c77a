public import RetainProto
import RetainStorage

/// Where a state writes its snapshot records: each is a protobuf message, packed by
/// libprotobuf-c and streamed through zstd by the storage library.
public struct SnapshotSink: ~Copyable {
    private let writer: UnsafeMutablePointer<SnapshotWriter>
    private let arena = ProtoArena(blockSize: 16 << 10)
    private var buffer: [UInt8] = []

    init(writer: UnsafeMutablePointer<SnapshotWriter>) {
        self.writer = writer
    }

    /// Appends one record.
    public mutating func write<M: ProtoMessage>(_ message: M) throws {
        arena.reset()
        var packed = 0
        ProtoCodec.encode(message, arena: arena) { size, pack in
            if buffer.count < size { buffer = [UInt8](repeating: 0, count: max(size, buffer.count * 2)) }
            packed = buffer.withUnsafeMutableBytes { pack($0.baseAddress!) }
        }
        try buffer.withUnsafeBytes { try writer.pointee.append(UnsafeRawBufferPointer(rebasing: $0[0..<packed])) }
    }

    /// Appends one record holding the bytes of `packed` (a layout of the state's own, which its
    /// ``SnapshotSource/nextBytes()`` reads back), without a protobuf encoding around them.
    package mutating func write(packed: borrowing PackedWriter) throws {
        try packed.withBytes { try writer.pointee.append($0) }
    }
}

/// Where a state reads its snapshot records back, in the order they were written.
public struct SnapshotSource: ~Copyable {
    private let reader: UnsafeMutablePointer<SnapshotReader>
    private let arena = ProtoArena(blockSize: 16 << 10)

    init(reader: UnsafeMutablePointer<SnapshotReader>) {
        self.reader = reader
    }

    /// The number of records in the snapshot.
    public var recordCount: UInt64 { reader.pointee.recordCount }

    /// The next record decoded as `M`, or nil at the end.
    public mutating func next<M: ProtoMessage>(_ type: M.Type) throws -> M? {
        guard let bytes = try reader.pointee.next() else { return nil }
        arena.reset()
        return try ProtoCodec.decode(type, from: bytes, arena: arena)
    }

    /// The next record's bytes as written by ``SnapshotSink/write(packed:)``, valid only until
    /// the next call; nil at the end.
    package mutating func nextBytes() throws -> UnsafeRawBufferPointer? {
        try reader.pointee.next()
    }
}
