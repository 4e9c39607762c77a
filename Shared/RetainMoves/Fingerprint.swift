/// A 64-bit FNV-1a hash with a fixed seed: the same input gives the same value in every process
/// (unlike `Hasher`), so fingerprints stored in the log stay comparable after a restart, and a
/// moved user's checksum is the same on both shards.
public struct Fingerprint: Sendable {
    /// The hash of what was combined so far.
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    /// Adds bytes.
    public mutating func combine<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01B3
        }
    }

    /// Adds a string and a separator that no string contains, so ("ab", "c") != ("a", "bc").
    public mutating func combine(_ text: String) {
        combine(text.utf8)
        combine(CollectionOfOne(0xFF))
    }

    /// Adds a number (8 bytes, little-endian).
    public mutating func combine(_ number: Int64) {
        withUnsafeBytes(of: number.littleEndian) { combine($0) }
    }

    /// Adds a map's entries in key order (a protobuf map is encoded in no fixed order).
    public mutating func combine(sorted map: [String: String]) {
        for (key, value) in map.sorted(by: { $0.key < $1.key }) {
            combine(key)
            combine(value)
        }
        combine("")
    }
}
