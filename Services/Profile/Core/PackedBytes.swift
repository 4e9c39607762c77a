/// Appends little-endian integers and length-prefixed strings to a byte array: the writer of
/// the packed snapshot layouts.
package struct PackedWriter {
    /// The bytes written.
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends an integer, little-endian.
    @inline(__always)
    package mutating func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends `size` bytes that `body` writes (zeroed first).
    @inline(__always)
    package mutating func put(fixed size: Int, _ body: (UnsafeMutableRawPointer) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: size))
        bytes.withUnsafeMutableBytes { body($0.baseAddress! + start) }
    }

    /// Appends raw bytes.
    @inline(__always)
    package mutating func put(bytes raw: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: raw)
    }

    /// Appends a string as a u32 byte count and its UTF-8 bytes.
    @inline(__always)
    package mutating func put(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            put(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }
}

/// Reads what a ``PackedWriter`` wrote; every read checks the bounds.
package struct PackedReader {
    private let base: UnsafeRawBufferPointer
    /// Bytes read so far.
    package private(set) var offset = 0

    package init(_ base: UnsafeRawBufferPointer) {
        self.base = base
    }

    /// Whether everything was read.
    package var atEnd: Bool { offset == base.count }

    /// Reads an integer.
    @inline(__always)
    package mutating func get<T: FixedWidthInteger>(_: T.Type = T.self) throws(PackedError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= base.count else { throw PackedError(offset: offset) }
        defer { offset += size }
        return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// The next `count` bytes, valid while the underlying buffer is.
    @inline(__always)
    package mutating func bytes(_ count: Int) throws(PackedError) -> UnsafeRawBufferPointer {
        guard count >= 0, offset + count <= base.count else { throw PackedError(offset: offset) }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: base[offset..<offset + count])
    }

    /// Reads a string written by ``PackedWriter/put(_:)-(String)``.
    @inline(__always)
    package mutating func string() throws(PackedError) -> String {
        let count = Int(try get(UInt32.self))
        return String(decoding: try bytes(count), as: UTF8.self)
    }
}

/// Packed bytes that end early.
package struct PackedError: Error, CustomStringConvertible {
    /// Where the read failed.
    package var offset: Int
    package var description: String { "packed record truncated at byte \(offset)" }
}
