import Foundation
import Logging
import RetainProto
import RetainState
import RetainStorage
import Testing

@Suite("Replicated batches: a replica writes each batch from its leader with one write and one sync")
struct ReplicatedBatchTests {
    /// `texts` as log frames (16-byte header, then the payload) from sequence `first` on, as a
    /// leader sends them.
    private func frames(_ texts: [String], first: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        for (index, text) in texts.enumerated() {
            let payload = ProtoCodec.encode(Retain_V1_EchoRequest(text: text))
            let sequence = first + UInt64(index)
            var crc = CRC32C()
            payload.withUnsafeBytes { crc.update($0) }
            let checksum = LogRecordFrame.checksum(payloadCRC: crc, length: UInt32(payload.count), sequence: sequence)
            var header = [UInt8](repeating: 0, count: LogRecordFrame.headerSize)
            header.withUnsafeMutableBytes {
                LogRecordFrame.storeHeader(
                    at: $0.baseAddress!, length: UInt32(payload.count), checksum: checksum, sequence: sequence)
            }
            bytes += header + payload
        }
        return bytes
    }

    @Test("the committer takes none of a batch's records before the whole batch is appended")
    func oneSyncPerBatch() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replicated-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try StateStore<Journal>(directory: directory, replicated: true, logger: Logger(label: "test"))
        defer { store.close() }
        let filler = String(repeating: "x", count: 2000)
        var first: UInt64 = 1
        for round in 0..<3 {
            let texts = (0..<400).map { "\(round)-\($0)-\(filler)" }
            let before = try #require(store.logStatistics)
            #expect(try store.applyReplicated(firstSequence: first, frames: frames(texts, first: first)) == first + 399)
            first += 400
            let deadline = ContinuousClock.now + .seconds(10)
            while store.durableSequence < first - 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            #expect(store.durableSequence == first - 1)
            let after = try #require(store.logStatistics)
            // Before appends went together, the committer woke at the batch's first record and
            // wrote what it found, then the rest after another sync.
            #expect(after.batches - before.batches == 1, "round \(round): \(after.batches - before.batches) writes for one batch")
            #expect(after.syncs - before.syncs == 1)
            #expect(after.records - before.records == 400)
        }
        #expect(store.read { $0.texts.count } == 1200)
    }
}
