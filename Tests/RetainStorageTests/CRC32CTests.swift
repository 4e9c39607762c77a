import RetainStorage
import Testing

@Suite("CRC32C")
struct CRC32CTests {
    /// Bit-at-a-time reference implementation of CRC-32C.
    private func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    private func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { CRC32C.checksum($0) }
    }

    @Test("matches the published check values")
    func publishedVectors() {
        #expect(checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(checksum(Array(0...31)) == 0x46DD_794E)
        #expect(checksum([]) == 0)
    }

    @Test("slicing-by-8 agrees with the bitwise definition for every length and split")
    func agreesWithReference() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(checksum(bytes) == reference(bytes), "length \(length)")
            let split = length == 0 ? 0 : Int.random(in: 0...length, using: &generator)
            var crc = CRC32C()
            bytes.withUnsafeBytes { raw in
                crc.update(UnsafeRawBufferPointer(rebasing: raw[0..<split]))
                crc.update(UnsafeRawBufferPointer(rebasing: raw[split...]))
            }
            #expect(crc.value == reference(bytes), "length \(length) split at \(split)")
        }
    }

    @Test("the CPU's crc32 instruction (where there is one) and the tables agree at every length, offset and split")
    func instructionAgreesWithTables() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4_200).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { raw in
            for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1_000, 4_000] {
                for offset in 0..<9 {
                    let piece = UnsafeRawBufferPointer(rebasing: raw[offset..<offset + length])
                    var tables = CRC32C()
                    tables.updateWithTables(piece)
                    var either = CRC32C()
                    let split = length / 3
                    either.update(UnsafeRawBufferPointer(rebasing: piece[0..<split]))
                    either.update(UnsafeRawBufferPointer(rebasing: piece[split...]))
                    #expect(either == tables, "length \(length), offset \(offset)")
                    #expect(tables.value == reference(Array(piece)), "length \(length), offset \(offset)")
                }
            }
        }
    }
}
