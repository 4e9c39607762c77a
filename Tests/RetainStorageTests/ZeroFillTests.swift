import Glibc
import Logging
import RetainStorage
import Testing

/// Log segments zero-filled ahead of their records (``StorageConfiguration/zeroFillSegments``):
/// records are written over the zeros, and readers take the zeros after the last record as the
/// end of the log, never as a torn append, while damage before zeros is still found.
@Suite("Zero-filled log segments")
struct ZeroFillTests {
    private static let sizes = [40, 41, 42, 43, 44]
    private static let recordsEnd = recordOffset(5, payloadSizes: sizes)

    /// Writes five records and returns the segment's path.
    private func writeFive(_ directory: String, configuration: StorageConfiguration = StorageConfiguration()) async throws -> String {
        let (store, _) = try openAndRecover(directory, configuration: configuration)
        try await appendDurably(store, Self.sizes.enumerated().map { payload(UInt64($0.offset + 1), length: $0.element) })
        store.close()
        return directory + "/" + (segmentFiles(directory).first ?? "missing")
    }

    @Test("a segment is zero-filled a mebibyte past its records; a reopen reads the records, cuts nothing, and appends after them")
    func zeroFilledAhead() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try await writeFive(scratch.data)
        #expect(fileSize(path) == Self.recordsEnd + (1 << 20))
        let bytes = try readFile(path)
        #expect(bytes[Self.recordsEnd...].allSatisfy { $0 == 0 })

        // After a crash too (no clean-shutdown marker): the zeros are the end, not a torn tail.
        forgetCleanShutdown(scratch.data)
        let messages = RecordingLogHandler.Messages()
        let (store, recovered) = try openAndRecover(scratch.data, logger: testLogger(messages))
        #expect(recovered.logSequences == [1, 2, 3, 4, 5])
        #expect(recovered.report.truncatedTail == nil)
        #expect(!messages.contains(level: .warning, "torn"))
        // The next record goes where the records end, over the zeros, not after them.
        #expect(try store.append(payload(6, length: 45)) == 6)
        try await store.waitDurable(6)
        store.close()
        let after = try readFile(path)
        let sixthEnd = Self.recordsEnd + LogRecordFrame.headerSize + 45
        #expect(Array(after[0..<Self.recordsEnd]) == Array(bytes[0..<Self.recordsEnd]))
        #expect(after[Self.recordsEnd..<sixthEnd].contains { $0 != 0 }, "record 6 is written over the zeros")
        #expect(after[sixthEnd...].allSatisfy { $0 == 0 })
        // Still within the mebibyte filled before: the file did not grow.
        #expect(after.count == Self.recordsEnd + (1 << 20))
        let again = try recoverAndClose(scratch.data)
        #expect(again.logSequences == [1, 2, 3, 4, 5, 6])
        #expect(again.logPayloads.last == payload(6, length: 45))
    }

    @Test("a last record torn inside the zero-filled tail is cut as a torn append, at every byte")
    func tornIntoZeros() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try await writeFive(scratch.data)
        let pristine = try readFile(path)
        let lastOffset = recordOffset(4, payloadSizes: Self.sizes)
        let frameSize = LogRecordFrame.headerSize + Self.sizes[4]
        for kept in 1..<frameSize {
            // The last write reached the disk only in part; the rest of its bytes are still zeros.
            var torn = pristine
            for index in (lastOffset + kept)..<(lastOffset + frameSize) { torn[index] = 0 }
            try writeFile(path, torn)
            forgetCleanShutdown(scratch.data)
            let messages = RecordingLogHandler.Messages()
            let (store, recovered) = try openAndRecover(scratch.data, logger: testLogger(messages))
            #expect(recovered.logSequences == [1, 2, 3, 4], "kept \(kept) bytes")
            #expect(recovered.report.truncatedTail?.offset == Int64(lastOffset), "kept \(kept) bytes")
            #expect(messages.contains(level: .warning, "torn"))
            #expect(try store.append(payload(500)) == 5)
            try await store.waitDurable(5)
            store.close()
            let again = try recoverAndClose(scratch.data)
            #expect(again.logSequences == [1, 2, 3, 4, 5])
            #expect(again.logPayloads.last == payload(500))
            #expect(again.report.truncatedTail == nil)
        }
    }

    @Test("zeros in place of a record with valid records after them are corruption, not the end of the log")
    func zerosBeforeRecords() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try await writeFive(scratch.data)
        var bytes = try readFile(path)
        let third = recordOffset(2, payloadSizes: Self.sizes)
        for index in third..<recordOffset(3, payloadSizes: Self.sizes) { bytes[index] = 0 }
        try writeFile(path, bytes)
        forgetCleanShutdown(scratch.data)
        let error = storageError(#expect(throws: StorageError.self) { try recoverAndClose(scratch.data) })
        guard case .corrupt(_, let offset, _) = error else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        #expect(offset == Int64(third))
    }

    @Test("a zero-fill that fails (a full disk) leaves the records appended as without it")
    func failedZeroFill() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        let faults = FaultInjection()
        faults.fail(.preallocate, errno: ENOSPC, times: 1)
        configuration.faultInjection = faults
        let path = try await writeFive(scratch.data, configuration: configuration)
        #expect(faults.calls(.preallocate) == 1)
        #expect(fileSize(path) == Self.recordsEnd)
        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.logSequences == [1, 2, 3, 4, 5])
        #expect(recovered.report.truncatedTail == nil)
    }

    @Test("with zero-fill off, a segment holds its records and nothing after them")
    func zeroFillOff() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        configuration.zeroFillSegments = false
        let path = try await writeFive(scratch.data, configuration: configuration)
        #expect(fileSize(path) == Self.recordsEnd)
        let recovered = try recoverAndClose(scratch.data, configuration: configuration)
        #expect(recovered.logSequences == [1, 2, 3, 4, 5])
    }

    @Test("segments roll over at their size, each finished one cut after its last record; every record comes back")
    func rollsOver() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        configuration.segmentBytes = 8192
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        var sequences: [UInt64] = []
        for batch in 0..<20 {
            sequences += try await appendDurably(store, (0..<10).map { payload(UInt64(batch * 10 + $0 + 1), length: 100) })
        }
        store.close()
        let segments = segmentFiles(scratch.data)
        #expect(segments.count > 2)
        // A finished segment ends after its last record (its zeros are cut when the log rolls
        // over); only the last one has a zero tail, up to the segment size.
        for name in segments.dropLast() {
            let bytes = try readFile(scratch.data + "/" + name)
            #expect((bytes.count - LogSegmentHeader.size) % 116 == 0, "\(name): \(bytes.count) bytes")
            #expect(bytes.suffix(116).prefix(4) == [100, 0, 0, 0], "\(name) ends with a whole record")
        }
        #expect(fileSize(scratch.data + "/" + segments.last!) <= 8192 + 10 * 116)
        forgetCleanShutdown(scratch.data)
        let recovered = try recoverAndClose(scratch.data, configuration: configuration)
        #expect(recovered.logSequences == sequences)
        #expect(recovered.report.truncatedTail == nil)
    }
}
