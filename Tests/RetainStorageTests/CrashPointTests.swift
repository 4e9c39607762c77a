import RetainStorage
import Testing

@Suite("Crash points")
struct CrashPointTests {
    private func configuration(_ faults: FaultInjection) -> StorageConfiguration {
        var configuration = StorageConfiguration()
        configuration.segmentBytes = 2048
        configuration.faultInjection = faults
        return configuration
    }

    /// Appends `range`, each record durable before the next.
    private func fill(_ store: DurableStore, _ range: ClosedRange<UInt64>) async throws {
        for sequence in range { try await appendDurably(store, [payload(sequence, length: 100)]) }
    }

    @discardableResult
    private func snapshot(_ store: DurableStore, _ covered: UInt64) throws -> SnapshotReport {
        try store.writeSnapshot(coveringSequence: covered) { writer in
            for sequence in 1...covered { try writer.append(payload(sequence)) }
        }
    }

    /// Checks that recovery rebuilds exactly 1...last from snapshot plus log.
    private func expectComplete(_ recovered: Recovered, through last: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
        let covered = recovered.report.snapshotSequence
        #expect(recovered.snapshot == (0..<covered).map { payload($0 + 1) }, sourceLocation: sourceLocation)
        let expectedLog: [UInt64] = covered < last ? Array((covered + 1)...last) : []
        #expect(recovered.logSequences == expectedLog, sourceLocation: sourceLocation)
        #expect(recovered.report.lastSequence == last, sourceLocation: sourceLocation)
    }

    @Test("crash before the snapshot rename: the temporary is removed and the log rebuilds everything")
    func crashBeforeRename() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let faults = FaultInjection()
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration(faults))
        try await fill(store, 1...60)
        faults.crash(at: .snapshotBeforeRename)
        #expect(throws: FaultInjection.SimulatedCrash.self) { try snapshot(store, 60) }
        store.close()
        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.report.removedTemporaryFiles.count == 1)
        #expect(recovered.report.snapshotFile == nil)
        expectComplete(recovered, through: 60)
        #expect(!listFiles(scratch.data).contains { $0.hasSuffix(".tmp") })
    }

    @Test("crash after the snapshot rename, before old files are removed: the new snapshot is used")
    func crashAfterRename() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let faults = FaultInjection()
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration(faults))
        try await fill(store, 1...50)
        try snapshot(store, 30)
        try await fill(store, 51...90)
        let segments = segmentFiles(scratch.data)
        faults.crash(at: .snapshotAfterRename)
        #expect(throws: FaultInjection.SimulatedCrash.self) { try snapshot(store, 80) }
        #expect(segmentFiles(scratch.data) == segments)
        store.close()

        let (reopened, recovered) = try openAndRecover(scratch.data, configuration: configuration(faults))
        #expect(recovered.report.snapshotSequence == 80)
        expectComplete(recovered, through: 90)
        try await fill(reopened, 91...100)
        let report = try snapshot(reopened, 100)
        #expect(!report.removedSegments.isEmpty, "the next snapshot finishes the interrupted clean-up")
        reopened.close()
        expectComplete(try recoverAndClose(scratch.data), through: 100)
    }

    @Test("crash between removing old snapshots and removing covered segments")
    func crashBetweenRemovals() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let faults = FaultInjection()
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration(faults))
        try await fill(store, 1...40)
        try snapshot(store, 20)
        try await fill(store, 41...60)
        try snapshot(store, 50)
        try await fill(store, 61...80)
        faults.crash(at: .snapshotAfterRemovingSnapshots)
        #expect(throws: FaultInjection.SimulatedCrash.self) { try snapshot(store, 75) }
        #expect(snapshotFiles(scratch.data).count == 2)
        store.close()
        expectComplete(try recoverAndClose(scratch.data), through: 80)
    }

    @Test("crash while rolling over to a new segment: acknowledged records survive, the temporary is removed")
    func crashDuringRollover() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let faults = FaultInjection()
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration(faults))
        faults.crash(at: .segmentBeforeRename)
        var acknowledged: UInt64 = 0
        do {
            for sequence in UInt64(1)...100 {
                try await appendDurably(store, [payload(sequence, length: 100)])
                acknowledged = sequence
            }
            Issue.record("the simulated crash did not happen")
        } catch {
            #expect(storageError(error).map { if case .unavailable = $0 { true } else { false } } == true)
        }
        store.close()
        #expect(listFiles(scratch.data).contains { $0.hasSuffix(".tmp") })
        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.report.removedTemporaryFiles.count == 1)
        #expect(recovered.logSequences == Array(1...acknowledged))
    }

    @Test("a half-written snapshot temporary from a crash is removed and ignored")
    func halfWrittenSnapshot() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, (1...10).map { payload($0) })
        store.close()
        try writeFile(scratch.data + "/snapshot-00000000000000000010.tmp", [UInt8](repeating: 0xAB, count: 100))
        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.report.removedTemporaryFiles.count == 1)
        #expect(recovered.logSequences == Array(1...10))
    }

    @Test("a log that ends before the snapshot (interval mode, OS crash) continues after the snapshot")
    func logBehindSnapshot() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, (1...20).map { payload($0) })
        try snapshot(store, 20)
        store.close()
        // Simulate losing the log's last 5 records, as an OS crash can in interval mode.
        let segment = scratch.data + "/" + segmentFiles(scratch.data)[0]
        truncateFile(segment, to: recordOffset(15, payloadSizes: Array(repeating: 40, count: 20)))
        let (reopened, recovered) = try openAndRecover(scratch.data)
        #expect(recovered.report.lastSequence == 20)
        #expect(recovered.log.isEmpty)
        #expect(try reopened.append(payload(21)) == 21)
        try await reopened.waitDurable(21)
        reopened.close()
        let again = try recoverAndClose(scratch.data)
        #expect(again.snapshot.count == 20)
        #expect(again.logSequences == [21])
    }
}
