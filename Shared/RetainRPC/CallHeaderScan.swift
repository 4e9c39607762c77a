/// The fields of a packed `CallHeader` that the server reads on every call, scanned straight
/// from the wire bytes without libprotobuf-c.
///
/// Only the plain shape that clients send is scanned: each of `method` (1), `timeout_us` (2),
/// `authorization` (3), `accept_compression` (7) and `window_bytes` (8) at most once, text in printable ASCII
/// without NUL, lengths and varints of at most 9 bytes, `accept_compression` as 0 or 1. Any other
/// header (other fields, repeats, other encodings, malformed bytes) is not scanned, and the
/// server decodes it with libprotobuf-c as before, so both paths read every header alike.
struct CallHeaderScan {
    /// The method's path, empty when absent.
    private(set) var method = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The credential, empty when absent.
    private(set) var authorization = UnsafeRawBufferPointer(start: nil, count: 0)
    /// `timeout_us`, 0 when absent.
    private(set) var timeoutMicroseconds: UInt64 = 0
    /// `accept_compression`.
    private(set) var acceptsCompression = false
    /// `window_bytes`, 0 when absent.
    private(set) var windowBytes: UInt32 = 0

    /// Scans `raw`, valid while `raw` is; nil when the header is not of the plain shape.
    init?(_ raw: UnsafeRawBufferPointer) {
        var index = 0
        var seen: UInt16 = 0
        /// A varint of at most 9 bytes at `index`, or nil.
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < raw.count, shift < 63 {
                let byte = raw[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while index < raw.count {
            let tag = raw[index]
            index += 1
            let field = tag >> 3
            guard tag & 0x80 == 0, field < 16, seen & (1 << UInt16(field)) == 0 else { return nil }
            seen |= 1 << UInt16(field)
            switch (field, tag & 7) {
            case (1, 2), (3, 2):
                guard let length = varint(), length <= UInt64(raw.count - index) else { return nil }
                let text = UnsafeRawBufferPointer(rebasing: raw[index..<(index + Int(length))])
                guard text.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
                index += Int(length)
                if field == 1 { method = text } else { authorization = text }
            case (2, 0):
                guard let value = varint() else { return nil }
                timeoutMicroseconds = value
            case (7, 0):
                guard index < raw.count, raw[index] <= 1 else { return nil }
                acceptsCompression = raw[index] == 1
                index += 1
            case (8, 0):
                guard let value = varint(), value <= UInt64(UInt32.max) else { return nil }
                windowBytes = UInt32(value)
            default:
                return nil
            }
        }
    }
}
