import Synchronization

/// The trace ids the gateway makes up for calls that arrive without one: 128 bits in hex (32
/// lower-case digits), as W3C trace context writes them.
///
/// Each is a counter mixed with a random key drawn once per process (SplitMix64's finalizer, a
/// bijection of 64-bit words): unique within the process, spread evenly over the id space, and
/// made without a system call. Drawing each id from the system's generator cost two `getrandom`
/// calls per forwarded call. The ids identify calls; nothing relies on them being unguessable.
enum TraceIDs {
    private static let keys: (UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }()
    private static let counter = Atomic<UInt64>(0)

    /// A fresh trace id.
    static func next() -> String {
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let high = mix(count &+ keys.0)
        let low = mix(count &* 0x9E37_79B9_7F4A_7C15 ^ keys.1)
        return String(unsafeUninitializedCapacity: 32) { digits in
            for index in 0..<16 {
                let shift = UInt64(60 - 4 * index)
                digits[index] = hexDigit(high >> shift)
                digits[16 + index] = hexDigit(low >> shift)
            }
            return 32
        }
    }

    /// SplitMix64's finalizer: a bijection, so distinct counts give distinct words.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The lower-case hex digit of the low four bits of `value`.
    private static func hexDigit(_ value: UInt64) -> UInt8 {
        let nibble = UInt8(truncatingIfNeeded: value & 0xF)
        return nibble < 10 ? 0x30 + nibble : 0x57 + nibble
    }
}
