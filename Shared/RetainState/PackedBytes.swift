/// Appends little-endian integers and length-prefixed strings to a growing buffer: the writer
/// of the packed snapshot layouts. Writes are plain stores into memory it owns, so that packing
/// a million users costs little next to compressing them.
///
/// The reads and writes are `@inlinable`: the services call them from their own modules, and
/// unspecialised generic calls across a module cost more than the packing itself.
package struct PackedWriter: ~Copyable {
    @usableFromInline var base: UnsafeMutableRawPointer
    @usableFromInline var capacity: Int
    /// Bytes written.
    @usableFromInline package var count = 0

    package init(capacity: Int) {
        self.capacity = max(64, capacity)
        base = .allocate(byteCount: self.capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    /// The bytes written, copied out.
    package var bytes: [UInt8] {
        [UInt8](UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Calls `body` with the bytes written (no copy; valid only inside `body`).
    package func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Calls `body` with the bytes written, to change some in place (no copy; valid only inside `body`).
    package mutating func withMutableBytes<Result>(_ body: (UnsafeMutableRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// Forgets the bytes written, keeping the memory for the next ones.
    package mutating func removeAll() {
        count = 0
    }

    @inlinable @inline(__always)
    mutating func reserve(_ size: Int) {
        guard count + size > capacity else { return }
        grow(size)
    }

    @usableFromInline
    mutating func grow(_ size: Int) {
        var grown = capacity * 2
        while grown < count + size { grown *= 2 }
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 8)
        bigger.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = bigger
        capacity = grown
    }

    /// Appends an integer, little-endian.
    @inlinable @inline(__always)
    package mutating func put<T: FixedWidthInteger>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: T.self)
        count += MemoryLayout<T>.size
    }

    /// Appends an integer, little-endian (a concrete overload: callers in other modules get no
    /// generic call).
    @inlinable @inline(__always)
    package mutating func put(_ value: Int64) {
        reserve(MemoryLayout<Int64>.size)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: Int64.self)
        count += MemoryLayout<Int64>.size
    }

    /// Appends an integer, little-endian (a concrete overload: callers in other modules get no
    /// generic call).
    @inlinable @inline(__always)
    package mutating func put(_ value: UInt64) {
        reserve(MemoryLayout<UInt64>.size)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt64.self)
        count += MemoryLayout<UInt64>.size
    }

    /// Appends an integer, little-endian (a concrete overload: callers in other modules get no
    /// generic call).
    @inlinable @inline(__always)
    package mutating func put(_ value: Int32) {
        reserve(MemoryLayout<Int32>.size)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: Int32.self)
        count += MemoryLayout<Int32>.size
    }

    /// Appends an integer, little-endian (a concrete overload: callers in other modules get no
    /// generic call).
    @inlinable @inline(__always)
    package mutating func put(_ value: UInt32) {
        reserve(MemoryLayout<UInt32>.size)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt32.self)
        count += MemoryLayout<UInt32>.size
    }

    /// Appends an integer, little-endian (a concrete overload: callers in other modules get no
    /// generic call).
    @inlinable @inline(__always)
    package mutating func put(_ value: UInt16) {
        reserve(MemoryLayout<UInt16>.size)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt16.self)
        count += MemoryLayout<UInt16>.size
    }

    /// Appends an integer, little-endian (a concrete overload: callers in other modules get no
    /// generic call).
    @inlinable @inline(__always)
    package mutating func put(_ value: UInt8) {
        reserve(MemoryLayout<UInt8>.size)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt8.self)
        count += MemoryLayout<UInt8>.size
    }

    /// Appends `size` bytes that `body` writes.
    @inlinable @inline(__always)
    package mutating func put(fixed size: Int, _ body: (UnsafeMutableRawPointer) -> Void) {
        reserve(size)
        body(base + count)
        count += size
    }

    /// Appends raw bytes.
    @inlinable @inline(__always)
    package mutating func put(bytes raw: UnsafeRawBufferPointer) {
        reserve(raw.count)
        if let source = raw.baseAddress, raw.count > 0 { (base + count).copyMemory(from: source, byteCount: raw.count) }
        count += raw.count
    }

    /// Appends a string as a u32 byte count and its UTF-8 bytes.
    @inlinable @inline(__always)
    package mutating func put(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            put(UInt32(utf8.count))
            put(bytes: UnsafeRawBufferPointer(utf8))
        }
    }
}

/// Reads what a ``PackedWriter`` wrote; every read checks the bounds.
package struct PackedReader {
    @usableFromInline let base: UnsafeRawBufferPointer
    /// Bytes read so far.
    @usableFromInline package var offset = 0

    @inlinable
    package init(_ base: UnsafeRawBufferPointer) {
        self.base = base
    }

    /// Whether everything was read.
    @inlinable
    package var atEnd: Bool { offset == base.count }

    /// Reads an integer.
    @inlinable @inline(__always)
    package mutating func get<T: FixedWidthInteger>(_: T.Type = T.self) throws(PackedError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= base.count else { throw PackedError(offset: offset) }
        defer { offset += size }
        return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Reads an integer (a concrete overload: callers in other modules get no generic call).
    @inlinable @inline(__always)
    package mutating func get() throws(PackedError) -> Int64 {
        guard offset + MemoryLayout<Int64>.size <= base.count else { throw PackedError(offset: offset) }
        defer { offset += MemoryLayout<Int64>.size }
        return Int64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: Int64.self))
    }

    /// Reads an integer (a concrete overload: callers in other modules get no generic call).
    @inlinable @inline(__always)
    package mutating func get() throws(PackedError) -> UInt64 {
        guard offset + MemoryLayout<UInt64>.size <= base.count else { throw PackedError(offset: offset) }
        defer { offset += MemoryLayout<UInt64>.size }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Reads an integer (a concrete overload: callers in other modules get no generic call).
    @inlinable @inline(__always)
    package mutating func get() throws(PackedError) -> Int32 {
        guard offset + MemoryLayout<Int32>.size <= base.count else { throw PackedError(offset: offset) }
        defer { offset += MemoryLayout<Int32>.size }
        return Int32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }

    /// Reads an integer (a concrete overload: callers in other modules get no generic call).
    @inlinable @inline(__always)
    package mutating func get() throws(PackedError) -> UInt32 {
        guard offset + MemoryLayout<UInt32>.size <= base.count else { throw PackedError(offset: offset) }
        defer { offset += MemoryLayout<UInt32>.size }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// Reads an integer (a concrete overload: callers in other modules get no generic call).
    @inlinable @inline(__always)
    package mutating func get() throws(PackedError) -> UInt16 {
        guard offset + MemoryLayout<UInt16>.size <= base.count else { throw PackedError(offset: offset) }
        defer { offset += MemoryLayout<UInt16>.size }
        return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// Reads an integer (a concrete overload: callers in other modules get no generic call).
    @inlinable @inline(__always)
    package mutating func get() throws(PackedError) -> UInt8 {
        guard offset + MemoryLayout<UInt8>.size <= base.count else { throw PackedError(offset: offset) }
        defer { offset += MemoryLayout<UInt8>.size }
        return UInt8(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt8.self))
    }

    /// The next `count` bytes, valid while the underlying buffer is.
    @inlinable @inline(__always)
    package mutating func bytes(_ count: Int) throws(PackedError) -> UnsafeRawBufferPointer {
        guard count >= 0, offset + count <= base.count else { throw PackedError(offset: offset) }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: base[offset..<offset + count])
    }

    /// Reads `count` bytes into an array.
    @inlinable @inline(__always)
    package mutating func byteArray(_ count: Int) throws(PackedError) -> [UInt8] {
        let raw = try bytes(count)
        return count == 0 ? [] : [UInt8](raw)
    }

    /// Reads a string written by ``PackedWriter/put(_:)-(String)``.
    @inlinable @inline(__always)
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

    /// A read that failed at `offset`.
    @inlinable
    package init(offset: Int) {
        self.offset = offset
    }
}
