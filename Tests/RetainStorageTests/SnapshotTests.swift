import Foundation
import RetainStorage
import Synchronization
import Testing

@Suite("Snapshots")
struct SnapshotTests {
    /// A service-like state: the applied sequences, behind the service's lock.
    final class AppliedState: Sendable {
        let applied = Mutex<[UInt64]>([])
    }

    @Test("a snapshot taken while appends continue recovers every record exactly once")
    func snapshotWhileAppending() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        configuration.segmentBytes = 16 << 10
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        let state = AppliedState()
        let stop = Locked(false)

        let writers = Task.detached {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        while !stop.withLock({ $0 }) {
                            let sequence = try state.applied.withLock { (applied) throws(StorageError) -> UInt64 in
                                let sequence = try store.append(payload(store.lastSequence + 1))
                                applied.append(sequence)
                                return sequence
                            }
                            try await store.waitDurable(sequence)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        var reports: [SnapshotReport] = []
        var previous: UInt64 = 0
        for _ in 0..<3 {
            // Let the writers get well past the previous snapshot (the test pool may be busy).
            var copy: [UInt64] = []
            let deadline = ContinuousClock.now + .seconds(20)
            while (copy.last ?? 0) < previous + 500, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                copy = state.applied.withLock { $0 }
            }
            let covered = try #require(copy.last)
            previous = covered
            let report = try await Task.detached {
                try store.writeSnapshot(coveringSequence: covered) { writer in
                    for sequence in copy { try writer.append(payload(sequence)) }
                }
            }.value
            reports.append(report)
        }
        let target = previous + 500
        while store.lastSequence < target { try await Task.sleep(for: .milliseconds(20)) }
        stop.withLock { $0 = true }
        try await writers.value
        let last = store.lastSequence
        store.close()

        #expect(reports.count == 3)
        #expect(reports.allSatisfy { $0.coveredSequence < last })
        let recovered = try recoverAndClose(scratch.data, configuration: configuration)
        let covered = try #require(reports.last?.coveredSequence)
        #expect(recovered.report.snapshotSequence == covered)
        #expect(recovered.snapshot == (1...covered).map { payload($0) })
        #expect(recovered.logSequences == Array((covered + 1)...last))
        #expect(recovered.logPayloads == ((covered + 1)...last).map { payload($0) })
    }

    @Test("log segments and old snapshots are removed only after a newer snapshot is durable")
    func segmentRemoval() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        configuration.segmentBytes = 1024
        let faults = FaultInjection()
        configuration.faultInjection = faults
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)

        func appendBatch(_ range: ClosedRange<UInt64>) async throws {
            for sequence in range { try await appendDurably(store, [payload(sequence, length: 100)]) }
        }
        func snapshot(_ covered: UInt64) throws -> SnapshotReport {
            try store.writeSnapshot(coveringSequence: covered) { writer in
                for sequence in 1...covered { try writer.append(payload(sequence)) }
            }
        }

        try await appendBatch(1...40)
        let segmentsBefore = segmentFiles(scratch.data)
        #expect(segmentsBefore.count > 3)

        faults.crash(at: .snapshotBeforeRename)
        #expect(throws: FaultInjection.SimulatedCrash(point: .snapshotBeforeRename)) { try snapshot(40) }
        #expect(segmentFiles(scratch.data) == segmentsBefore, "nothing removed before the snapshot is in place")
        #expect(snapshotFiles(scratch.data).isEmpty)
        #expect(listFiles(scratch.data).contains { $0.hasSuffix(".tmp") })

        let first = try snapshot(40)
        #expect(first.removedSegments.isEmpty, "the first snapshot keeps the whole log as its fallback")
        #expect(segmentFiles(scratch.data) == segmentsBefore)

        try await appendBatch(41...80)
        let second = try snapshot(80)
        #expect(!second.removedSegments.isEmpty)
        #expect(second.removedSnapshots.isEmpty)
        #expect(snapshotFiles(scratch.data).count == 2)
        // Everything still on disk is needed from the older snapshot (40) on.
        let remaining = segmentFiles(scratch.data)
        let firstKept = try #require(UInt64(remaining[0].dropFirst(4).prefix(20)))
        #expect(firstKept <= 41)
        #expect(remaining.count >= 2)
        if remaining.count > 1 {
            let secondKept = try #require(UInt64(remaining[1].dropFirst(4).prefix(20)))
            #expect(secondKept > 41, "no wholly covered segment is left behind")
        }

        try await appendBatch(81...120)
        let third = try snapshot(120)
        #expect(third.removedSnapshots.map { $0.hasSuffix(DataDirectory.snapshotName(coveredSequence: 40)) } == [true])
        #expect(snapshotFiles(scratch.data) == [80, 120].map { DataDirectory.snapshotName(coveredSequence: $0) })
        store.close()

        let recovered = try recoverAndClose(scratch.data, configuration: configuration)
        #expect(recovered.snapshot.count == 120)
        #expect(recovered.report.lastSequence == 120)
        #expect(recovered.log.isEmpty)
    }

    @Test("the snapshot policy turns due by record count and by time")
    func snapshotPolicy() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var configuration = StorageConfiguration()
        configuration.snapshotEveryRecords = 10
        configuration.snapshotEverySeconds = 3600
        let (store, _) = try openAndRecover(scratch.data, configuration: configuration)
        #expect(!store.snapshotDue)
        try await appendDurably(store, (1...9).map { payload($0) })
        #expect(!store.snapshotDue)
        try await appendDurably(store, [payload(10)])
        #expect(store.snapshotDue)
        try store.writeSnapshot(coveringSequence: 10) { _ in }
        #expect(!store.snapshotDue)
        store.close()

        configuration.snapshotEveryRecords = 1_000_000
        configuration.snapshotEverySeconds = 0
        let (timed, _) = try openAndRecover(scratch.data, configuration: configuration)
        #expect(!timed.snapshotDue, "nothing new since the last snapshot")
        try await appendDurably(timed, [payload(11)])
        #expect(timed.snapshotDue)
        timed.close()
    }

    @Test("snapshot arguments are checked, and a failing body leaves no file behind")
    func snapshotMisuse() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        defer { store.close() }
        try await appendDurably(store, (1...5).map { payload($0) })
        #expect(throws: StorageError.self) { try store.writeSnapshot(coveringSequence: 6) { _ in } }
        struct BodyFailure: Error {}
        #expect(throws: BodyFailure.self) {
            try store.writeSnapshot(coveringSequence: 5) { writer in
                try writer.append(payload(1))
                throw BodyFailure()
            }
        }
        #expect(!listFiles(scratch.data).contains { $0.hasPrefix("snapshot-") })
        try store.writeSnapshot(coveringSequence: 5) { writer in try writer.append(payload(1)) }
        #expect(throws: StorageError.self) { try store.writeSnapshot(coveringSequence: 5) { _ in } }
        #expect(store.snapshotSequence == 5)
    }

    @Test("records of any size come back exactly while the inflater works ahead: empty, spanning blocks, larger than a block")
    func recordsAcrossInflaterBlocks() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try openAndRecover(scratch.data)
        try await appendDurably(store, [payload(1)])
        // Sizes around the 1 MiB blocks: length prefixes and records cut at every kind of place.
        var sizes = [0, 1, 3, 4, 5, 1_000, 65_536, (1 << 20) - 2, 1 << 20, (1 << 20) + 3, 3 << 20, 0, 7]
        for index in 0..<2_000 { sizes.append((index * 7_919) % 5_000) }
        func record(_ index: Int) -> [UInt8] {
            (0..<sizes[index]).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
        }
        try store.writeSnapshot(coveringSequence: 1) { writer in
            for index in sizes.indices { try writer.append(record(index)) }
        }
        store.close()
        let recovered = try recoverAndClose(scratch.data)
        #expect(recovered.snapshot.count == sizes.count)
        for index in sizes.indices where recovered.snapshot.indices.contains(index) {
            #expect(recovered.snapshot[index] == record(index), "record \(index) of \(sizes[index]) bytes")
        }
        // A reader that stops early (a state refusing a record) ends the inflater's thread too.
        struct Refused: Error {}
        let again = try DurableStore(directory: scratch.data, configuration: StorageConfiguration(), logger: testLogger())
        defer { again.close() }
        #expect(throws: Refused.self) {
            try again.recover(
                snapshot: { reader in
                    _ = try reader.next()
                    throw Refused()
                }, replay: { _, _ in })
        }
    }
}
