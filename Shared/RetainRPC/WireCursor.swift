/// Protobuf wire-format fields read in order from raw bytes: for the few places that read one or
/// two fields of a message straight from its encoding instead of decoding all of it (a call
/// header's metadata, a benchmark counting what an answer reports).
package struct WireCursor {
    @usableFromInline let raw: UnsafeRawBufferPointer
    @usableFromInline var index = 0

    @inlinable
    package init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }

    /// Whether every byte has been read.
    @inlinable
    package var atEnd: Bool { index >= raw.count }

    /// A varint (at most 10 bytes), or nil.
    @inlinable
    package mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < raw.count, shift < 64 {
            let byte = raw[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }

    /// A field's tag as its number and wire type, or nil.
    @inlinable
    package mutating func tag() -> (field: UInt64, wireType: UInt64)? {
        varint().map { ($0 >> 3, $0 & 7) }
    }

    /// The bytes of a length-delimited field, or nil.
    @inlinable
    package mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
        guard let length = varint(), length <= UInt64(raw.count - index) else { return nil }
        let bytes = UnsafeRawBufferPointer(rebasing: raw[index..<index + Int(length)])
        index += Int(length)
        return bytes
    }

    /// Passes over a field's value of `wireType`; false when it cannot.
    @inlinable
    package mutating func skip(wireType: UInt64) -> Bool {
        switch wireType {
        case 0: return varint() != nil
        case 1, 5:
            let width = wireType == 1 ? 8 : 4
            guard raw.count - index >= width else { return false }
            index += width
            return true
        case 2: return lengthDelimited() != nil
        default: return false
        }
    }
}
