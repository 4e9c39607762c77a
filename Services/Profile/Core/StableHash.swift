/// A 64-bit hash that is the same in every process and on every run (Swift's `Hasher` is
/// seeded per process), for what is stored or compared across restarts: event-id fingerprints,
/// request fingerprints and page tokens. FNV-1a over the bytes, then a SplitMix64 finaliser so
/// that every output bit depends on every input bit. Not for adversarial input.
package struct StableHash {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    package init() {}

    /// Mixes in the UTF-8 bytes of `string`, then a separator so that ("ab","c") differs from ("a","bc").
    package mutating func combine(_ string: String) {
        var string = string
        string.withUTF8 { bytes in
            for byte in bytes { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        combine(UInt64(0xff))
    }

    /// Mixes in raw bytes.
    package mutating func combine(bytes: UnsafeRawBufferPointer) {
        for byte in bytes { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
    }

    /// Mixes in an integer.
    package mutating func combine(_ value: UInt64) {
        state = Self.mix(state ^ value) &* 0x100_0000_01b3
    }

    /// Mixes in an integer.
    package mutating func combine(_ value: Int64) { combine(UInt64(bitPattern: value)) }

    /// The hash.
    package var value: UInt64 { Self.mix(state) }

    /// SplitMix64's finaliser.
    @inline(__always)
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The hash of a byte array.
    package static func of(bytes: [UInt8]) -> UInt64 {
        var hasher = StableHash()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.value
    }

    /// The hash of one string.
    package static func of(_ string: String) -> UInt64 {
        var hasher = StableHash()
        hasher.combine(string)
        return hasher.value
    }
}
