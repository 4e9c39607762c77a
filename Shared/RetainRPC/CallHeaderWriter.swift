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
    @discardableResult
    static func write(_ header: Retain_V1_CallHeader, into buffer: inout ByteBuffer) -> Int {
        let start = buffer.writerIndex
        string(1, header.method, into: &buffer)
        varint(2, header.timeoutUs, into: &buffer)
        string(3, header.authorization, into: &buffer)
        string(4, header.traceId, into: &buffer)
        string(5, header.idempotencyKey, into: &buffer)
        for (key, value) in header.metadata {
            let entryLength = fieldLength(key) + fieldLength(value)
            writeVarint(6 << 3 | 2, into: &buffer)
            writeVarint(UInt64(entryLength), into: &buffer)
            string(1, key, into: &buffer)
            string(2, value, into: &buffer)
        }
        if header.acceptCompression { varint(7, 1, into: &buffer) }
        varint(8, UInt64(header.windowBytes), into: &buffer)
        return buffer.writerIndex - start
    }

    /// The bytes of a string field holding `value` (its key, length and text), 0 when empty.
    private static func fieldLength(_ value: String) -> Int {
        let count = value.utf8.count
        return count == 0 ? 0 : 1 + varintLength(UInt64(count)) + count
    }

    private static func string(_ number: UInt64, _ value: String, into buffer: inout ByteBuffer) {
        let count = value.utf8.count
        guard count > 0 else { return }
        writeVarint(number << 3 | 2, into: &buffer)
        writeVarint(UInt64(count), into: &buffer)
        buffer.writeString(value)
    }

    private static func varint(_ number: UInt64, _ value: UInt64, into buffer: inout ByteBuffer) {
        guard value != 0 else { return }
        writeVarint(number << 3, into: &buffer)
        writeVarint(value, into: &buffer)
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

    private static func writeVarint(_ value: UInt64, into buffer: inout ByteBuffer) {
        var value = value
        while value >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        buffer.writeInteger(UInt8(value))
    }
}
