/// Deterministic pseudo-random numbers (SplitMix64) drawn from a key, so that what a simulated
/// user does on a day depends only on the seed, the user and the day, not on the order in which
/// concurrent tasks run.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    /// A generator for `parts` (for example seed, user index and day).
    init(_ parts: UInt64...) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for part in parts {
            state = Self.mix(state ^ part &+ 0x632B_E59B_D9B4_E019)
        }
        self.state = state
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < p
    }

    /// A stable 64-bit key for `text` (FNV-1a), the same in every process.
    static func key(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
