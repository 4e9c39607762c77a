/// The payload `retain-storage torture` appends for a sequence, defined here independently of the
/// tool so the crash test checks the contract rather than the tool's own code: the sequence as a
/// little-endian u64, then `sequence % 57` filler bytes, byte `i` being `sequence * 131 + i`.
enum TortureRecord {
    static func matches(_ payload: some Collection<UInt8>, sequence: UInt64) -> Bool {
        let bytes = Array(payload)
        guard bytes.count == 8 + Int(sequence % 57) else { return false }
        var stored: UInt64 = 0
        for index in 0..<8 { stored |= UInt64(bytes[index]) << (8 * UInt64(index)) }
        guard stored == sequence else { return false }
        for index in 0..<Int(sequence % 57) where bytes[8 + index] != UInt8(truncatingIfNeeded: sequence &* 131 &+ UInt64(index)) {
            return false
        }
        return true
    }
}
