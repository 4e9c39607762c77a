import Logging
import RetainStorage
import Testing

@Suite("Torn tails")
struct TornTailTests {
    private static let sizes = [40, 41, 42, 43, 44]

    /// Writes five records and returns the segment's path and bytes (not zero-filled ahead, so
    /// the file ends with the last record; `ZeroFillTests` tears records inside zeros).
    private func writeFive(_ directory: String) async throws -> (path: String, bytes: [UInt8]) {
        var configuration = StorageConfiguration()
        configuration.zeroFillSegments = false
        let (store, _) = try openAndRecover(directory, configuration: configuration)
        try await appendDurably(store, Self.sizes.enumerated().map { payload(UInt64($0.offset + 1), length: $0.element) })
        store.close()
        #expect(listFiles(directory).contains("CLEAN"), "a clean close leaves the clean-shutdown marker")
        let path = directory + "/" + (segmentFiles(directory).first ?? "missing")
        return (path, try readFile(path))
    }

    @Test("a last record cut at every byte offset is truncated with a warning, and appends continue")
    func cutAtEveryOffset() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (path, pristine) = try await writeFive(scratch.data)
        let lastOffset = recordOffset(4, payloadSizes: Self.sizes)
        let frameSize = LogRecordFrame.headerSize + Self.sizes[4]
        #expect(pristine.count == lastOffset + frameSize)
        for kept in 1..<frameSize {
            try writeFile(path, Array(pristine.prefix(lastOffset + kept)))
            forgetCleanShutdown(scratch.data)
            let messages = RecordingLogHandler.Messages()
            let (store, recovered) = try openAndRecover(scratch.data, logger: testLogger(messages))
            #expect(recovered.logSequences == [1, 2, 3, 4], "kept \(kept) bytes")
            #expect(recovered.report.truncatedTail?.offset == Int64(lastOffset))
            #expect(recovered.report.truncatedTail?.bytes == Int64(kept))
            #expect(messages.contains(level: .warning, "torn"))
            #expect(fileSize(path) == lastOffset)
            #expect(try store.append(payload(500)) == 5)
            try await store.waitDurable(5)
            store.close()
            let again = try recoverAndClose(scratch.data)
            #expect(again.logPayloads.last == payload(500))
            #expect(again.report.truncatedTail == nil)
        }
    }

    @Test("zeros after the last record (a zero-filled tail) end the log: nothing is cut, appends go over them")
    func zeroTail() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (path, pristine) = try await writeFive(scratch.data)
        for zeros in [1, 15, 16, 4096] {
            try writeFile(path, pristine + [UInt8](repeating: 0, count: zeros))
            forgetCleanShutdown(scratch.data)
            let (store, recovered) = try openAndRecover(scratch.data)
            #expect(recovered.logSequences == [1, 2, 3, 4, 5], "\(zeros) zeros")
            #expect(recovered.report.truncatedTail == nil, "\(zeros) zeros")
            #expect(try store.append(payload(6)) == 6)
            try await store.waitDurable(6)
            store.close()
            let again = try recoverAndClose(scratch.data)
            #expect(again.logSequences == [1, 2, 3, 4, 5, 6])
            #expect(Array(try readFile(path).prefix(pristine.count)) == pristine)
        }
    }

    @Test("a checksum failure in the very last record is indistinguishable from a torn append and is cut")
    func flipInLastRecord() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (path, _) = try await writeFive(scratch.data)
        try flipBit(path, at: recordOffset(4, payloadSizes: Self.sizes) + 20)
        forgetCleanShutdown(scratch.data)
        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.logSequences == [1, 2, 3, 4])
        #expect(recovered.report.truncatedTail?.offset == Int64(recordOffset(4, payloadSizes: Self.sizes)))
    }

    @Test("the same damage after a clean stop is refused as corruption, and repair then clears it")
    func damageAfterCleanStop() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (path, pristine) = try await writeFive(scratch.data)
        let lastOffset = recordOffset(4, payloadSizes: Self.sizes)
        try writeFile(path, Array(pristine.prefix(lastOffset + 7)))
        let error = storageError(#expect(throws: StorageError.self) { _ = try recoverAndClose(scratch.data) })
        guard case .corrupt(_, let offset, let reason) = error else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        #expect(offset == Int64(lastOffset))
        #expect(reason.contains("clean shutdown"))
        #expect(fileSize(path) == lastOffset + 7, "nothing was cut")

        let report = try StorageInspector.repair(directory: scratch.data, logger: testLogger())
        #expect(report.actions.contains { $0.contains("clean-shutdown marker") })
        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.logSequences == [1, 2, 3, 4])
    }

    @Test("a log that ends after a clean stop at another sequence than the marker says is refused")
    func recordsMissingAfterCleanStop() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (path, pristine) = try await writeFive(scratch.data)
        // A whole record gone (a file restored from an older copy): no torn bytes, still damage.
        try writeFile(path, Array(pristine.prefix(recordOffset(4, payloadSizes: Self.sizes))))
        let error = storageError(#expect(throws: StorageError.self) { _ = try recoverAndClose(scratch.data) })
        #expect(error?.description.contains("clean shutdown ended the log at sequence 5") == true)
    }
}
