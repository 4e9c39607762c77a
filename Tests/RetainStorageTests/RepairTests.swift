import RetainStorage
import Testing

@Suite("Repair")
struct RepairTests {
    private func quarantine(_ directory: String) throws -> String {
        let name = try #require(listFiles(directory).first { $0.hasPrefix("quarantine-") })
        return directory + "/" + name
    }

    @Test("repair cuts the log at the damage, keeps a copy of what it drops, and recovery then succeeds")
    func repairDamagedLog() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, (1...10).map { payload($0, length: 50) })
        store.close()
        let segment = scratch.data + "/" + segmentFiles(scratch.data)[0]
        let offset = recordOffset(6, payloadSizes: Array(repeating: 50, count: 10))
        try flipBit(segment, at: offset + 25)
        let damaged = try readFile(segment)
        #expect(throws: StorageError.self) { try recoverAndClose(scratch.data) }
        #expect(try StorageInspector.inspect(directory: scratch.data).recoveryProblem != nil)

        let report = try StorageInspector.repair(directory: scratch.data, logger: testLogger())
        #expect(!report.nothingToRepair)
        #expect(report.lastSequence == 6)
        let quarantine = try quarantine(scratch.data)
        #expect(report.quarantine == quarantine)
        let copy = try readFile(quarantine + "/" + segmentFiles(scratch.data)[0] + ".from-offset-\(offset)")
        #expect(copy == Array(damaged[offset...]), "the dropped bytes are kept exactly")
        #expect(try readFile(quarantine + "/MANIFEST.txt").count > 0)

        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.logSequences == Array(1...6))
        let again = try StorageInspector.repair(directory: scratch.data, logger: testLogger())
        #expect(again.nothingToRepair)
    }

    @Test("repair moves later segments after the damage to the quarantine")
    func repairMovesLaterSegments() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        configuration.segmentBytes = 300
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        for sequence in UInt64(1)...20 { try await appendDurably(store, [payload(sequence, length: 50)]) }
        store.close()
        let segments = segmentFiles(scratch.data)
        #expect(segments.count >= 4)
        try flipBit(scratch.data + "/" + segments[1], at: LogSegmentHeader.size + 20)
        let report = try StorageInspector.repair(directory: scratch.data, logger: testLogger())
        let quarantine = try quarantine(scratch.data)
        for later in segments[2...] { #expect(exists(quarantine + "/" + later)) }
        let recovered = try recoverAndClose(scratch.data, configuration: configuration)
        #expect(recovered.report.lastSequence == report.lastSequence)
        #expect(recovered.logSequences == Array(1...report.lastSequence))
    }

    @Test("a corrupt newest snapshot is quarantined and recovery falls back to the previous one plus the log")
    func repairCorruptSnapshot() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        configuration.segmentBytes = 4096
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        @discardableResult
        func snapshot(_ covered: UInt64) throws -> SnapshotReport {
            try store.writeSnapshot(coveringSequence: covered) { writer in
                for sequence in 1...covered { try writer.append(payload(sequence)) }
            }
        }
        for sequence in UInt64(1)...100 { try await appendDurably(store, [payload(sequence)]) }
        try snapshot(50)
        let newest = try snapshot(100)
        for sequence in UInt64(101)...120 { try await appendDurably(store, [payload(sequence)]) }
        store.close()

        try flipBit(newest.file, at: fileSize(newest.file) - 3)
        #expect(throws: StorageError.self) { try recoverAndClose(scratch.data) }
        let report = try StorageInspector.repair(directory: scratch.data, logger: testLogger())
        #expect(exists(try quarantine(scratch.data) + "/" + DataDirectory.snapshotName(coveredSequence: 100)))
        #expect(report.lastSequence == 120)

        let recovered = try recoverAndClose(scratch.data, configuration: configuration)
        #expect(recovered.report.snapshotSequence == 50)
        #expect(recovered.snapshot == (1...50).map { payload($0) })
        #expect(recovered.logSequences == Array(51...120))
        #expect(recovered.logPayloads == (51...120).map { payload($0) })
    }

    @Test("damage in records a snapshot already covers loses nothing after the snapshot")
    func repairDamageInsideCoveredRecords() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, (1...100).map { payload($0, length: 50) })
        try store.writeSnapshot(coveringSequence: 60) { writer in
            for sequence in UInt64(1)...60 { try writer.append(payload(sequence)) }
        }
        store.close()
        let segment = scratch.data + "/" + segmentFiles(scratch.data)[0]
        try flipBit(segment, at: recordOffset(10, payloadSizes: Array(repeating: 50, count: 100)) + 30)
        #expect(throws: StorageError.self) { try recoverAndClose(scratch.data) }

        let report = try StorageInspector.repair(directory: scratch.data, logger: testLogger())
        #expect(report.lastSequence == 100)
        #expect(segmentFiles(scratch.data) == [DataDirectory.segmentName(firstSequence: 61)])
        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.snapshot.count == 60)
        #expect(recovered.logSequences == Array(61...100))
        #expect(recovered.logPayloads == (61...100).map { payload($0, length: 50) })
    }

    @Test("a damaged segment header is rewritten from the file name")
    func repairSegmentHeader() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, (1...10).map { payload($0) })
        store.close()
        let segment = scratch.data + "/" + segmentFiles(scratch.data)[0]
        try flipBit(segment, at: 3)
        #expect(throws: StorageError.self) { try recoverAndClose(scratch.data) }
        let report = try StorageInspector.repair(directory: scratch.data, logger: testLogger())
        #expect(report.lastSequence == 10)
        #expect(exists(try quarantine(scratch.data) + "/" + segmentFiles(scratch.data)[0] + ".original"))
        #expect(try recoverAndClose(scratch.data).logSequences == Array(1...10))
    }

    @Test("a clean directory needs no repair and gets no quarantine")
    func cleanDirectory() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, (1...3).map { payload($0) })
        store.close()
        let report = try StorageInspector.repair(directory: scratch.data, logger: testLogger())
        #expect(report.nothingToRepair)
        #expect(report.lastSequence == 3)
        #expect(!listFiles(scratch.data).contains { $0.hasPrefix("quarantine-") })
    }
}
