import RetainStorage
import Testing

@Suite("Inspect")
struct InspectorTests {
    @Test("inspect lists snapshots and segments with their sequences, sizes and compression ratio")
    func inspectHealthyDirectory() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        configuration.segmentBytes = 4096
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        for sequence in UInt64(1)...200 { try await appendDurably(store, [payload(sequence, length: 60)]) }
        try store.writeSnapshot(coveringSequence: 150) { writer in
            for sequence in UInt64(1)...150 { try writer.append(payload(sequence, length: 60)) }
        }
        store.close()

        let inspection = try StorageInspector.inspect(directory: scratch.data)
        #expect(inspection.recoveryProblem == nil)
        #expect(inspection.recoverableSequence == 200)
        #expect(inspection.lockHolder == nil)
        #expect(inspection.snapshots.count == 1)
        let snapshot = try #require(inspection.snapshots.first)
        #expect(snapshot.coveredSequence == 150 && snapshot.recordCount == 150 && snapshot.status == .ok)
        #expect(snapshot.compressionRatio > 1)
        #expect(inspection.segments.count > 2)
        #expect(inspection.segments.allSatisfy { $0.status == .ok })
        #expect(inspection.segments.reduce(0) { $0 + $1.recordCount } == 200)
        #expect(inspection.firstLoggedSequence == 1)
        #expect(inspection.lastLoggedSequence == 200)
        let text = inspection.description
        #expect(text.contains("covers 150"))
        #expect(text.contains("recovery: ok, through sequence 200"))
    }

    @Test("inspect reports a torn tail as recoverable and a flipped bit as a problem")
    func inspectDamage() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, (1...10).map { payload($0, length: 40) })
        store.close()
        let segment = scratch.data + "/" + segmentFiles(scratch.data)[0]
        let pristine = try readFile(segment)

        // Seven bytes short of the last record's end (the zero-filled tail after it goes too).
        try writeFile(segment, Array(pristine.prefix(recordOffset(10, payloadSizes: Array(repeating: 40, count: 10)) - 7)))
        var inspection = try StorageInspector.inspect(directory: scratch.data)
        #expect(inspection.recoveryProblem == nil)
        #expect(inspection.recoverableSequence == 9)
        guard case .tornTail = inspection.segments[0].status else {
            Issue.record("expected a torn tail, got \(inspection.segments[0].status)")
            return
        }

        try writeFile(segment, pristine)
        try flipBit(segment, at: recordOffset(3, payloadSizes: Array(repeating: 40, count: 10)) + 17)
        inspection = try StorageInspector.inspect(directory: scratch.data)
        #expect(inspection.recoveryProblem?.contains(segment) == true)
        #expect(
            inspection.segments[0].status
                == .corrupt(
                    offset: Int64(recordOffset(3, payloadSizes: Array(repeating: 40, count: 10))),
                    reason: { if case .corrupt(_, let reason) = inspection.segments[0].status { reason } else { "" } }()))
        #expect(inspection.description.contains("WOULD REFUSE TO START"))
    }
}
