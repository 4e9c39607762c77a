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
            guard let (field, wireType) = cursor.tag() else { return nil }
            guard field == 6, wireType == 2 else {
                guard cursor.skip(wireType: wireType) else { return nil }
                continue
            }
            guard let entry = cursor.lengthDelimited() else { return nil }
            var fields = WireCursor(entry)
            var entryKey = UnsafeRawBufferPointer(start: nil, count: 0)
            var entryValue = UnsafeRawBufferPointer(start: nil, count: 0)
            while !fields.atEnd {
                guard let (field, wireType) = fields.tag() else { return nil }
                switch (field, wireType) {
                case (1, 2):
                    guard let bytes = fields.lengthDelimited() else { return nil }
                    entryKey = bytes
                case (2, 2):
                    guard let bytes = fields.lengthDelimited() else { return nil }
                    entryValue = bytes
                default:
                    guard fields.skip(wireType: wireType) else { return nil }
                }
            }
            if key.utf8.elementsEqual(entryKey) { found = entryValue }
        }
        return found.map { String(decoding: $0, as: UTF8.self) }
    }
}
