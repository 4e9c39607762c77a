import RetainStorage
import Testing

@Suite("Corruption")
struct CorruptionTests {
    private static let sizes = Array(repeating: 50, count: 10)

    private func writeTen(_ directory: String, configuration: StorageConfiguration = StorageConfiguration()) async throws {
        let (store, _) = try openAndRecover(directory, configuration: configuration)
        try await appendDurably(store, (1...10).map { payload($0, length: 50) })
        store.close()
    }

    @Test("a flipped bit in the middle of the log stops recovery, naming the file and the record's offset")
    func flipInMiddleOfLog() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try await writeTen(scratch.data)
        let path = scratch.data + "/" + segmentFiles(scratch.data)[0]
        let offset = recordOffset(4, payloadSizes: Self.sizes)
        try flipBit(path, at: offset + 30, bit: 3)
        let error = storageError(#expect(throws: StorageError.self) { try recoverAndClose(scratch.data) })
        guard case .corrupt(let file, let reported, let reason) = error else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        #expect(file == path)
        #expect(reported == Int64(offset))
        #expect(reason.contains("checksum"))
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("offset \(offset)") == true)
    }

    @Test("a flipped bit in a length field is caught too")
    func flipInLength() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try await writeTen(scratch.data)
        let path = scratch.data + "/" + segmentFiles(scratch.data)[0]
        let offset = recordOffset(2, payloadSizes: Self.sizes)
        try flipBit(path, at: offset + 1, bit: 6)
        let error = storageError(#expect(throws: StorageError.self) { try recoverAndClose(scratch.data) })
        #expect(error == .corrupt(file: path, offset: Int64(offset), reason: reasonOf(error)))
    }

    @Test("damage at the end of a segment that is not the last is corruption, not a torn tail")
    func flipInEarlierSegment() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        configuration.segmentBytes = 200
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        for sequence in UInt64(1)...12 { try await appendDurably(store, [payload(sequence, length: 50)]) }
        store.close()
        let segments = segmentFiles(scratch.data)
        #expect(segments.count > 2)
        let first = scratch.data + "/" + segments[0]
        let size = fileSize(first)
        try flipBit(first, at: size - 5)
        let error = storageError(
            #expect(throws: StorageError.self) {
                try recoverAndClose(scratch.data, configuration: configuration)
            })
        guard case .corrupt(let file, _, _) = error else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        #expect(file == first)
    }

    @Test("a damaged segment header is corruption at offset 0")
    func damagedSegmentHeader() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try await writeTen(scratch.data)
        let path = scratch.data + "/" + segmentFiles(scratch.data)[0]
        try flipBit(path, at: 18)
        let error = storageError(#expect(throws: StorageError.self) { try recoverAndClose(scratch.data) })
        #expect(error == .corrupt(file: path, offset: 0, reason: reasonOf(error)))
    }

    @Test("a flipped bit in a snapshot stops recovery, naming the snapshot and an offset in its content")
    func flipInSnapshot() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, [payload(1)])
        let report = try store.writeSnapshot(coveringSequence: 1) { writer in
            for index in UInt64(0)..<20_000 { try writer.append(payload(index, length: 60)) }
        }
        store.close()
        let size = fileSize(report.file)
        try flipBit(report.file, at: size / 2, bit: 5)
        var snapshotRecords = 0
        let store2 = try DurableStore(directory: scratch.data, configuration: StorageConfiguration(), logger: testLogger())
        defer { store2.close() }
        let error = storageError(
            #expect(throws: StorageError.self) {
                try store2.recover(snapshot: { reader in while try reader.next() != nil { snapshotRecords += 1 } }, replay: { _, _ in })
            })
        guard case .corrupt(let file, let offset, let reason) = error else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        #expect(file == report.file)
        #expect(offset >= Int64(SnapshotHeader.size) && offset <= Int64(size / 2))
        #expect(reason.contains("checksum"))
        #expect(snapshotRecords == 0, "no record of a damaged snapshot is handed out")
    }

    @Test("a flipped bit in a snapshot header, or a truncated snapshot, stops recovery")
    func damagedSnapshotHeaderAndLength() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, [payload(1)])
        let report = try store.writeSnapshot(coveringSequence: 1) { writer in
            for index in UInt64(0)..<1000 { try writer.append(payload(index)) }
        }
        store.close()
        let pristine = try readFile(report.file)

        try flipBit(report.file, at: 26)
        var error = storageError(#expect(throws: StorageError.self) { try recoverAndClose(scratch.data) })
        #expect(error == .corrupt(file: report.file, offset: 0, reason: reasonOf(error)))

        try writeFile(report.file, Array(pristine.dropLast(10)))
        error = storageError(#expect(throws: StorageError.self) { try recoverAndClose(scratch.data) })
        #expect(error == .corrupt(file: report.file, offset: Int64(pristine.count - 10), reason: reasonOf(error)))

        try writeFile(report.file, pristine)
        #expect(try recoverAndClose(scratch.data).snapshot.count == 1000)
    }
}

/// The reason of a `.corrupt` error (to compare the other fields exactly).
func reasonOf(_ error: StorageError?) -> String {
    if case .corrupt(_, _, let reason) = error { return reason }
    return "<not corrupt: \(String(describing: error))>"
}
