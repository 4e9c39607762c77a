/// How one record is framed inside a log segment: a 16-byte header, then the payload.
///
/// All integers are little-endian.
///
///     0          4          8                    16
///     +----------+----------+--------------------+------------------------+
///     |  length  |  CRC32C  |      sequence      |  payload (length bytes)|
///     |   u32    |   u32    |        u64         |                        |
///     +----------+----------+--------------------+------------------------+
///
/// The CRC32C is computed over the payload, then bytes 0..<4 (length), then bytes 8..<16
/// (sequence): `CRC32C(payload ‖ length ‖ sequence)`. Putting the payload first lets an appender
/// checksum it before taking the append lock; the fixed fields are added under the lock, once
/// the sequence is known. Sequences are consecutive: each record's is the previous one's plus one.
package enum LogRecordFrame {
    /// Bytes before the payload.
    package static let headerSize = 16
    /// The largest payload the format allows (1 GiB); configurations stay below it.
    package static let formatMaximumPayload = 1 << 30

    /// Completes a record's checksum from the running CRC of its payload.
    @inline(__always)
    package static func checksum(payloadCRC: CRC32C, length: UInt32, sequence: UInt64) -> UInt32 {
        var crc = payloadCRC
        crc.update(littleEndian: length)
        crc.update(littleEndian: sequence)
        return crc.value
    }

    /// Writes a record's 16-byte header at `destination`.
    @inline(__always)
    package static func storeHeader(
        at destination: UnsafeMutableRawPointer, length: UInt32, checksum: UInt32, sequence: UInt64
    ) {
        destination.storeLittleEndian(length, at: 0)
        destination.storeLittleEndian(checksum, at: 4)
        destination.storeLittleEndian(sequence, at: 8)
    }
}
