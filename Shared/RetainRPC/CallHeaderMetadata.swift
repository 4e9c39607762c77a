/// Reads one metadata value of a packed `CallHeader` (field 6, map entries of key 1 and value
/// 2) straight from its wire bytes, without decoding the rest: every read of a replicated
/// service checks two keys (`read-from`, `max-staleness-ms`), and decoding the whole header
/// through libprotobuf-c for each cost more than the rest of a GetProfile.
enum CallHeaderMetadata {
    /// The value of `key`, the last entry's when several carry it (as a map decodes); nil when
    /// none does, or when the bytes are malformed (the server refuses such a header before any
    /// handler runs).
    static func value(of key: String, in raw: UnsafeRawBufferPointer) -> String? {
        var cursor = WireCursor(raw)
        var found: UnsafeRawBufferPointer?
        while !cursor.atEnd {
            guard let tag = cursor.varint() else { return nil }
            guard tag >> 3 == 6, tag & 7 == 2 else {
                guard cursor.skip(wireType: tag & 7) else { return nil }
                continue
            }
            guard let entry = cursor.lengthDelimited() else { return nil }
            var fields = WireCursor(entry)
            var entryKey = UnsafeRawBufferPointer(start: nil, count: 0)
            var entryValue = UnsafeRawBufferPointer(start: nil, count: 0)
            while !fields.atEnd {
                guard let fieldTag = fields.varint() else { return nil }
                switch (fieldTag >> 3, fieldTag & 7) {
                case (1, 2):
                    guard let bytes = fields.lengthDelimited() else { return nil }
                    entryKey = bytes
                case (2, 2):
                    guard let bytes = fields.lengthDelimited() else { return nil }
                    entryValue = bytes
                default:
                    guard fields.skip(wireType: fieldTag & 7) else { return nil }
                }
            }
            if key.utf8.elementsEqual(entryKey) { found = entryValue }
        }
        return found.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Protobuf wire fields read in order from raw bytes.
    private struct WireCursor {
        let raw: UnsafeRawBufferPointer
        var index = 0

        init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }

        var atEnd: Bool { index >= raw.count }

        /// A varint (at most 10 bytes), or nil.
        mutating func varint() -> UInt64? {
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

        /// The bytes of a length-delimited field, or nil.
        mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
            guard let length = varint(), length <= UInt64(raw.count - index) else { return nil }
            let bytes = UnsafeRawBufferPointer(rebasing: raw[index..<index + Int(length)])
            index += Int(length)
            return bytes
        }

        /// Passes over a field's value of `wireType`; false when it cannot.
        mutating func skip(wireType: UInt64) -> Bool {
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
}
