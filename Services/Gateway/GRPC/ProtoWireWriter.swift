/// Writes a protobuf message in wire format, field by field, without a schema (the few
/// messages of gRPC reflection that the front door answers).
///
/// ```
/// field = key (varint: number << 3 | wire type) value
///   wire type 0: varint            wire type 2: varint length, then the bytes
/// ```
struct ProtoWireWriter {
    private(set) var bytes: [UInt8] = []

    /// Appends a varint field (wire type 0).
    mutating func varint(_ number: Int, _ value: UInt64) {
        writeVarint(UInt64(number) << 3)
        writeVarint(value)
    }

    /// Appends a length-delimited field (wire type 2): bytes, a string or a nested message.
    mutating func bytes<Bytes: Collection<UInt8>>(_ number: Int, _ value: Bytes) {
        writeVarint(UInt64(number) << 3 | 2)
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Appends a string field.
    mutating func string(_ number: Int, _ value: String) {
        bytes(number, Array(value.utf8))
    }

    private mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}
