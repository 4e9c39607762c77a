/// The record `torture` appends for a sequence: the sequence (u64 little-endian) then 0–56 filler
/// bytes derived from it, so a checker can verify every record it reads back.
///
/// Tests/RetainStorageTests/TortureRecord.swift defines the same format independently.
enum TorturePayload {
    /// The payload for `sequence`.
    static func make(_ sequence: UInt64) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + 56)
        withUnsafeBytes(of: sequence.littleEndian) { bytes.append(contentsOf: $0) }
        for index in 0..<Int(sequence % 57) {
            bytes.append(UInt8(truncatingIfNeeded: sequence &* 131 &+ UInt64(index)))
        }
        return bytes
    }

    /// Whether `payload` is exactly the payload for `sequence`.
    static func matches(_ payload: UnsafeRawBufferPointer, sequence: UInt64) -> Bool {
        payload.elementsEqual(make(sequence))
    }
}
