import Glibc
import RetainStorage
import Synchronization
import Testing

@Suite("Round trips")
struct RoundTripTests {
    @Test("appended records come back in order, with their sequences, after reopening")
    func recordsRoundTrip() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sizes = [0, 1, 15, 16, 100, 4095, 70_000, 1 << 20, 3]
        let payloads = sizes.enumerated().map { payload(UInt64($0.offset + 1), length: $0.element) }

        let (store, first) = try openAndRecover(scratch.data)
        #expect(first.report.lastSequence == 0)
        let sequences = try await appendDurably(store, payloads)
        #expect(sequences == Array(1...UInt64(payloads.count)))
        #expect(store.lastSequence == UInt64(payloads.count))
        store.close()

        let (reopened, recovered) = try openAndRecover(scratch.data)
        #expect(recovered.logSequences == sequences)
        #expect(recovered.logPayloads == payloads)
        #expect(recovered.report.lastSequence == UInt64(payloads.count))
        #expect(recovered.report.truncatedTail == nil)
        let next = try await appendDurably(reopened, [payload(99)])
        #expect(next == [UInt64(payloads.count + 1)])
        reopened.close()

        let again = try recoverAndClose(scratch.data)
        #expect(again.logPayloads == payloads + [payload(99)])
    }

    @Test("a snapshot plus the log after it rebuilds the state; covered records are not replayed")
    func snapshotRoundTrip() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, (1...100).map { payload($0) })
        let state = (1...100).map { payload($0, length: 70) }
        let report = try store.writeSnapshot(coveringSequence: 100) { writer in
            for record in state { try writer.append(record) }
        }
        #expect(report.recordCount == 100)
        #expect(report.coveredSequence == 100)
        #expect(report.compressionRatio > 1)
        try await appendDurably(store, (101...150).map { payload($0) })
        store.close()

        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.snapshot == state)
        #expect(recovered.logSequences == Array(101...150))
        #expect(recovered.report.snapshotSequence == 100)
        #expect(recovered.report.snapshotRecords == 100)
        #expect(recovered.report.replayedRecords == 50)
        #expect(recovered.report.lastSequence == 150)
    }

    @Test("a snapshot of large and empty records streams back exactly")
    func snapshotRecordSizes() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, [payload(1)])
        var generator = SystemRandomNumberGenerator()
        let state: [[UInt8]] =
            [[], payload(1, length: 3 << 20), [7]]
            + (0..<5000).map { _ in (0..<Int.random(in: 0...300)).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        try store.writeSnapshot(coveringSequence: 1) { writer in
            for record in state { try writer.append(record) }
        }
        store.close()
        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.snapshot == state)
    }

    @Test("an empty directory recovers to sequence 0 and starts at 1")
    func emptyDirectory() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        #expect(mkdir(scratch.data, 0o755) == 0)
        let (store, recovered) = try openAndRecover(scratch.data)
        #expect(recovered.snapshot.isEmpty && recovered.log.isEmpty)
        #expect(recovered.report.lastSequence == 0)
        #expect(recovered.report.snapshotFile == nil)
        #expect(try store.append(payload(1)) == 1)
        store.close()
        #expect(try recoverAndClose(scratch.data).logSequences == [1])
    }

    @Test("a missing directory is created with its parents")
    func missingDirectory() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let nested = scratch.path + "/a/b/c/data"
        let (store, recovered) = try openAndRecover(nested)
        #expect(recovered.report.lastSequence == 0)
        store.close()
        #expect(listFiles(nested).contains("LOCK"))
        #expect(segmentFiles(nested).count == 1)
    }

    @Test("interval durability acknowledges after the write and loses nothing across close")
    func intervalDurability() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let configuration = StorageConfiguration(durability: .interval(milliseconds: 50))
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        let sequences = try await appendDurably(store, (1...500).map { payload($0) })
        #expect(store.durableSequence == 500)
        store.close()
        let recovered = try recoverAndClose(scratch.data, configuration: configuration)
        #expect(recovered.logSequences == sequences)
    }

    @Test("records above maxRecordBytes are refused")
    func recordTooLarge() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        configuration.maxRecordBytes = 1000
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        defer { store.close() }
        #expect(throws: StorageError.recordTooLarge(size: 1001, limit: 1000)) {
            try store.append([UInt8](repeating: 1, count: 1001))
        }
        #expect(try store.append([UInt8](repeating: 1, count: 1000)) == 1)
    }

    @Test("appending before recovery, or recovering twice, is refused")
    func lifecycleMisuse() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let store = try DurableStore(directory: scratch.data, configuration: StorageConfiguration(), logger: testLogger())
        defer { store.close() }
        #expect(throws: StorageError.self) { try store.append(payload(1)) }
        _ = try store.recover(snapshot: { _ in }, replay: { _, _ in })
        #expect(throws: StorageError.self) { try store.recover(snapshot: { _ in }, replay: { _, _ in }) }
    }

    @Test("durability callbacks run once each, in sequence order, under concurrent appends")
    func callbacksInOrder() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        let order = Locked<[(thread: pthread_t, sequence: UInt64)]>([])
        let lock = Locked(())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for index in 0..<300 {
                        let sequence = try lock.withLock { _ in try store.append(payload(UInt64(index))) }
                        store.whenDurable(sequence) { result in
                            if case .success = result { order.withLock { $0.append((pthread_self(), sequence)) } }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        try await store.waitDurable(store.lastSequence)
        store.close()
        let calls = order.withLock { $0 }
        let seen = calls.map(\.sequence)
        #expect(seen.count == 2400)
        #expect(Set(seen).count == 2400)
        // The committer runs callbacks in sequence order; one already durable runs at once on the
        // registering thread, whose own sequences increase. So on every thread they increase.
        for thread in Set(calls.map(\.thread)) {
            let onThread = calls.filter { $0.thread == thread }.map(\.sequence)
            #expect(onThread == onThread.sorted())
        }
        #expect(store.commitStatistics.records == 2400)
        #expect(store.commitStatistics.batches < 2400)
    }
}
