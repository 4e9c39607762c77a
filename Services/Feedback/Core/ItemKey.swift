/// An item id as 128 bits: `fb_` and 26 lower-case Crockford base-32 characters, like a ULID.
///
/// ```
///   fb_ 01hx5v3k9a  7q2m8c4d1e6f0g
///       |---------| |-------------|
///       48-bit submission time (ms)   80 bits derived from the user, the request id and the
///       (10 characters, sortable)     item's sequence number (16 characters)
/// ```
///
/// The first character carries only 3 bits (0 to 7), so the 26 characters hold exactly 128.
package struct ItemKey: Hashable, Sendable, CustomStringConvertible {
    /// Upper 64 bits: time (48) and the first 16 derived bits.
    package var high: UInt64
    /// Lower 64 bits.
    package var low: UInt64

    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, byte) in alphabet.enumerated() {
            table[Int(byte)] = Int8(index)
            if byte >= UInt8(ascii: "a") { table[Int(byte - 32)] = Int8(index) }
        }
        return table
    }()

    /// The id text, `fb_` and 26 characters.
    package var description: String {
        var bytes = [UInt8](repeating: 0, count: 29)
        bytes[0] = UInt8(ascii: "f")
        bytes[1] = UInt8(ascii: "b")
        bytes[2] = UInt8(ascii: "_")
        var high = high
        var low = low
        for index in stride(from: 28, through: 3, by: -1) {
            bytes[index] = Self.alphabet[Int(low & 31)]
            low = (low >> 5) | ((high & 31) << 59)
            high >>= 5
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses an id; nil when it is not `fb_` and 26 base-32 characters with the first at most 7.
    package init?(_ text: String) {
        let utf8 = text.utf8
        guard utf8.count == 29, utf8.starts(with: "fb_".utf8) else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in utf8.dropFirst(3).enumerated() {
            guard byte < 128 else { return nil }
            let value = Self.values[Int(byte)]
            guard value >= 0, index > 0 || value < 8 else { return nil }
            high = (high << 5) | (low >> 59)
            low = (low << 5) | UInt64(value)
        }
        self.init(high: high, low: low)
    }

    /// A new key for a submission: the time, then bits mixed from the user, the request id, the
    /// item's sequence number and `attempt` (raised on the very unlikely collision).
    package static func generate(
        timeMs: Int64, userID: String, requestID: String, sequence: UInt64,
        attempt: UInt64 = 0
    ) -> ItemKey {
        var hash = StableHash()
        hash.combine(userID)
        hash.combine(byte: 0)
        hash.combine(requestID)
        let first = StableHash.mix(hash.value ^ StableHash.mix(sequence) ^ (attempt &* 0x9e37_79b9))
        let second = StableHash.mix(first ^ sequence)
        let time = UInt64(clamping: max(timeMs, 0)) & 0xffff_ffff_ffff
        return ItemKey(high: (time << 16) | (first & 0xffff), low: second)
    }
}
