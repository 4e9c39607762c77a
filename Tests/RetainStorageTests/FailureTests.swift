import Glibc
import RetainStorage
import Testing

@Suite("I/O failures")
struct FailureTests {
    private func expectUnavailable(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            try await body()
            Issue.record("expected StorageError.unavailable", sourceLocation: sourceLocation)
        } catch let error as StorageError {
            guard case .unavailable = error else {
                Issue.record("expected unavailable, got \(error)", sourceLocation: sourceLocation)
                return
            }
        } catch {
            Issue.record("expected a StorageError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a failed write (ENOSPC) is never acknowledged, and the store refuses everything after it")
    func writeFailure() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        let faults = FaultInjection()
        configuration.faultInjection = faults
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        let acknowledged = try await appendDurably(store, (1...10).map { payload($0) })

        faults.fail(.write, errno: ENOSPC)
        #expect(store.failure == nil)
        let doomed = try store.append(payload(11))
        await expectUnavailable { try await store.waitDurable(doomed) }
        await expectUnavailable { _ = try store.append(payload(12)) }
        await expectUnavailable { try await store.waitDurable(doomed) }
        #expect(store.failure != nil)
        try await store.waitDurable(10)
        #expect(store.durableSequence == 10)
        store.close()

        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.logSequences == acknowledged)
    }

    @Test("a short write then an error is cut off the log at once, so recovery finds no torn tail")
    func shortWrite() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        let faults = FaultInjection()
        configuration.faultInjection = faults
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        try await appendDurably(store, (1...10).map { payload($0) })
        faults.fail(.write, errno: EIO, writtenPrefix: 20)
        let doomed = try store.append(payload(11))
        await expectUnavailable { try await store.waitDurable(doomed) }
        store.close()

        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.logSequences == Array(1...10))
        #expect(recovered.report.truncatedTail == nil)
        let again = try openAndRecover(scratch.data)
        #expect(try again.0.append(payload(11)) == 11)
        again.0.close()
    }

    @Test("a failed fdatasync (EIO) is never acknowledged; recovery afterwards is consistent")
    func syncFailure() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        let faults = FaultInjection()
        configuration.faultInjection = faults
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        let acknowledged = try await appendDurably(store, (1...10).map { payload($0) })
        faults.fail(.sync, errno: EIO)
        let doomed = try store.append(payload(11))
        await expectUnavailable { try await store.waitDurable(doomed) }
        await expectUnavailable { _ = try store.append(payload(12)) }
        store.close()

        // The write reached the file before its sync failed: the record's outcome was unknown to
        // the client (UNAVAILABLE), and recovery may find it. Nothing acknowledged is missing.
        let recovered = try recoverAndClose(scratch.data)
        #expect(Array(recovered.logSequences.prefix(10)) == acknowledged)
        #expect(recovered.logSequences == Array(1...UInt64(recovered.log.count)))
        #expect(recovered.log.count <= 11)
    }

    @Test("with interval durability a failed periodic sync stops further writes")
    func intervalSyncFailure() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration(durability: .interval(milliseconds: 20))
        let faults = FaultInjection()
        configuration.faultInjection = faults
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        try await appendDurably(store, (1...5).map { payload($0) })
        faults.fail(.sync, errno: EIO)
        // Acknowledged once written, unless its write fell due for the (failing) periodic sync.
        let sixAcknowledged = (try? await appendDurably(store, [payload(6)])) != nil
        let deadline = ContinuousClock.now + .seconds(10)
        while store.failure == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(store.failure != nil, "the periodic sync fails within its interval")
        await expectUnavailable { _ = try store.append(payload(7)) }
        store.close()
        let recovered = try recoverAndClose(scratch.data)
        #expect(Array(recovered.logSequences.prefix(5)) == Array(1...5))
        #expect(recovered.logSequences == Array(1...UInt64(recovered.log.count)))
        if sixAcknowledged { #expect(recovered.logSequences == Array(1...6)) }
    }

    @Test("a failed write cuts the log back to what was acknowledged, and the store recovers in place")
    func recoverInPlaceAfterFailure() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        let faults = FaultInjection()
        configuration.faultInjection = faults
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        try await appendDurably(store, (1...10).map { payload($0) })
        let segment = scratch.data + "/" + (segmentFiles(scratch.data).last ?? "missing")
        // The ten records end here; the segment is zero-filled past them.
        let acknowledgedBytes = recordOffset(10, payloadSizes: Array(repeating: 40, count: 10))
        #expect(fileSize(segment) > acknowledgedBytes)
        #expect(store.failureDiscardedUnacknowledged == nil)

        // A short write then ENOSPC: 30 bytes of record 11 reach the file before the error.
        faults.fail(.write, errno: ENOSPC, writtenPrefix: 30)
        let doomed = try store.append(payload(11))
        await expectUnavailable { try await store.waitDurable(doomed) }
        #expect(store.failureDiscardedUnacknowledged == true)
        #expect(fileSize(segment) == acknowledgedBytes, "the partial record (and the zeros after it) was cut off at once")

        store.restartForRecovery()
        var replayed: [UInt64] = []
        let report = try store.recover(snapshot: { _ in }, replay: { sequence, _ in replayed.append(sequence) })
        #expect(replayed == Array(1...10))
        #expect(report.truncatedTail == nil)
        #expect(try store.append(payload(11)) == 11)
        try await store.waitDurable(11)
        store.close()
        #expect(try recoverAndClose(scratch.data).logSequences == Array(1...11))
    }

    @Test("recovery without writing serves a full disk: the log opens for writes once there is room")
    func startWritingLater() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, (1...3).map { payload($0) })
        store.restartForRecovery()
        let report = try store.recover(snapshot: { _ in }, replay: { _, _ in }, startWriting: false)
        #expect(report.lastSequence == 3)
        #expect(throws: StorageError.self) { _ = try store.append(payload(4)) }
        try store.startWriting()
        #expect(try store.append(payload(4)) == 4)
        try await store.waitDurable(4)
        store.close()
    }
}
