/// FNV-1a, 64 bits: a hash that is the same in every process and on every run (Swift's
/// `Hasher` is seeded per process), for ids, page tokens and token ordering.
package struct StableHash: Sendable {
    /// The hash of everything fed so far.
    package private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    package init() {}

    /// Feeds the UTF-8 bytes of `text`.
    package mutating func combine(_ text: String) {
        for byte in text.utf8 { combine(byte: byte) }
    }

    /// Feeds `bytes`.
    package mutating func combine(bytes: some Sequence<UInt8>) {
        for byte in bytes { combine(byte: byte) }
    }

    /// Feeds the eight little-endian bytes of `number`.
    package mutating func combine(_ number: UInt64) {
        var rest = number
        for _ in 0..<8 {
            combine(byte: UInt8(truncatingIfNeeded: rest))
            rest >>= 8
        }
    }

    /// Feeds one byte.
    package mutating func combine(byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    /// The hash of `text` alone.
    package static func of(_ text: String) -> UInt64 {
        var hash = StableHash()
        hash.combine(text)
        return hash.value
    }

    /// SplitMix64's finaliser: spreads the bits of `value` evenly (for generated ids).
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
