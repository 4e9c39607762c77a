import NIOCore
import RetainProto

/// Writes a `CallHeader` in protobuf wire format straight into a buffer, without libprotobuf-c:
/// every call a client sends with options carries one, and packing it through the C mapping
/// (an arena, a C struct, its strings) cost a large share of a small call.
///
/// ```
/// field = key (varint: number << 3 | wire type) value
///   1 method, 3 authorization, 4 trace_id, 5 idempotency_key: 2 (varint length, UTF-8)
///   2 timeout_us, 7 accept_compression, 8 window_bytes:        0 (varint)
///   6 metadata (one per entry):                                2 (entry: 1 key, 2 value)
/// ```
///
/// Fields at their proto3 default are left out and the rest are written in field order, as
/// libprotobuf-c packs them; metadata entries in the dictionary's order (a map has none).
enum CallHeaderWriter {
    /// Appends `header` to `buffer`; returns the bytes written.
    ///
    /// The header's size is worked out first and its bytes stored in one reserved region: a
    /// write per byte into the buffer costs its checks each time, a large share of a forwarded
    /// call's header.
    @discardableResult
    static func write(_ header: Retain_V1_CallHeader, into buffer: inout ByteBuffer) -> Int {
        let size = encodedSize(header)
        guard size > 0 else { return 0 }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { target in
            var cursor = Cursor(base: target.baseAddress.unsafelyUnwrapped)
            cursor.string(1, header.method)
            cursor.varint(2, header.timeoutUs)
            cursor.string(3, header.authorization)
            cursor.string(4, header.traceId)
            cursor.string(5, header.idempotencyKey)
            for (key, value) in header.metadata {
                cursor.raw(6 << 3 | 2)
                cursor.raw(UInt64(fieldLength(key) + fieldLength(value)))
                cursor.string(1, key)
                cursor.string(2, value)
            }
            if header.acceptCompression { cursor.varint(7, 1) }
            cursor.varint(8, UInt64(header.windowBytes))
            assert(cursor.offset == size, "the call header's bytes differ from its computed size")
            return cursor.offset
        }
        return size
    }

    /// The bytes `write` appends for `header`.
    static func encodedSize(_ header: Retain_V1_CallHeader) -> Int {
        var size = fieldLength(header.method) + varintFieldLength(header.timeoutUs) + fieldLength(header.authorization)
        size += fieldLength(header.traceId) + fieldLength(header.idempotencyKey)
        for (key, value) in header.metadata {
            let entryLength = fieldLength(key) + fieldLength(value)
            size += 1 + varintLength(UInt64(entryLength)) + entryLength
        }
        if header.acceptCompression { size += 2 }
        return size + varintFieldLength(UInt64(header.windowBytes))
    }

    /// The bytes of a string field holding `value` (its key, length and text), 0 when empty.
    private static func fieldLength(_ value: String) -> Int {
        let count = value.utf8.count
        return count == 0 ? 0 : 1 + varintLength(UInt64(count)) + count
    }

    /// The bytes of a varint field holding `value` (its key and value), 0 when it is 0.
    private static func varintFieldLength(_ value: UInt64) -> Int {
        value == 0 ? 0 : 1 + varintLength(value)
    }

    private static func varintLength(_ value: UInt64) -> Int {
        var value = value
        var length = 1
        while value >= 0x80 {
            value >>= 7
            length += 1
        }
        return length
    }

    /// Stores fields at a raw address, advancing past them. Field numbers here are all below
    /// 16, so every key is one byte.
    private struct Cursor {
        let base: UnsafeMutableRawPointer
        var offset = 0

        mutating func string(_ number: UInt64, _ value: String) {
            var value = value
            let count = value.utf8.count
            guard count > 0 else { return }
            raw(number << 3 | 2)
            raw(UInt64(count))
            value.withUTF8 { bytes in
                (base + offset).copyMemory(from: bytes.baseAddress.unsafelyUnwrapped, byteCount: count)
            }
            offset += count
        }

        mutating func varint(_ number: UInt64, _ value: UInt64) {
            guard value != 0 else { return }
            raw(number << 3)
            raw(value)
        }

        /// A varint.
        mutating func raw(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                base.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: offset, as: UInt8.self)
                offset += 1
                value >>= 7
            }
            base.storeBytes(of: UInt8(value), toByteOffset: offset, as: UInt8.self)
            offset += 1
        }
    }
}
