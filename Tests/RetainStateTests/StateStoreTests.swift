import Foundation
import RetainWire
import Synchronization
import Logging
import RetainProto
import RetainState
import RetainStorage
import Testing

/// A tiny state for the tests: an ordered list of texts, logged as Echo requests.
struct Journal: PersistentState {
    typealias LogEntry = Retain_V1_EchoRequest
    var texts: [String] = []

    mutating func apply(_ entry: Retain_V1_EchoRequest) throws {
        guard !entry.text.isEmpty else { throw RPCError.invalidArgument(field: "text", "must not be empty") }
        texts.append(entry.text)
    }

    func writeSnapshot(to sink: inout SnapshotSink) throws {
        for text in texts { try sink.write(Retain_V1_EchoResponse(text: text)) }
    }

    mutating func restore(from source: inout SnapshotSource) throws {
        while let record = try source.next(Retain_V1_EchoResponse.self) { texts.append(record.text) }
    }
}

@Suite("state store")
struct StateStoreTests {
    let logger = Logger(label: "test")

    func directory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString)")
        return url.path
    }

    @Test("changes survive a reopen, through the log and through a snapshot")
    func survivesReopen() async throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = try StateStore<Journal>(directory: dir, logger: logger)
            for index in 0..<10 {
                _ = try await store.writeDurably { try $0.log(.init(text: "t\(index)")) }
            }
            #expect(try store.snapshot() != nil)
            for index in 10..<15 {
                _ = try await store.writeDurably { try $0.log(.init(text: "t\(index)")) }
            }
            store.close()
        }
        let reopened = try StateStore<Journal>(directory: dir, logger: logger)
        #expect(reopened.read { $0.texts } == (0..<15).map { "t\($0)" })
        reopened.close()
    }

    @Test("a rejected change is neither applied nor logged")
    func rejected() async throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = try StateStore<Journal>(directory: dir, logger: logger)
            _ = try await store.writeDurably { try $0.log(.init(text: "a")) }
            await #expect(throws: RPCError.self) {
                _ = try await store.writeDurably { try $0.log(.init(text: "")) }
            }
            store.close()
        }
        let reopened = try StateStore<Journal>(directory: dir, logger: logger)
        #expect(reopened.read { $0.texts } == ["a"])
        reopened.close()
    }

    @Test("the transaction sees its own changes and the write returns what the body returns")
    func transactionView() throws {
        let store = try StateStore<Journal>(directory: nil, logger: logger)
        let commit = try store.write { transaction in
            try transaction.log(.init(text: "x"))
            try transaction.log(.init(text: "y"))
            return transaction.state.texts.count
        }
        #expect(commit.value == 2)
        #expect(commit.sequence == nil)
    }

    @Test("a snapshot taken while writes go on covers exactly what it copied")
    func snapshotWhileWriting() async throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = try StateStore<Journal>(directory: dir, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for index in 0..<500 { _ = try await store.writeDurably { try $0.log(.init(text: "w\(index)")) } }
                }
                group.addTask {
                    for _ in 0..<5 {
                        _ = try store.snapshot()
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
                try await group.waitForAll()
            }
            store.close()
        }
        let reopened = try StateStore<Journal>(directory: dir, logger: logger)
        #expect(reopened.read { $0.texts } == (0..<500).map { "w\($0)" })
        reopened.close()
    }

    /// A store whose syncs each take `delay` ms longer, and the fault hook to arm failures.
    func slowStore(_ dir: String, delay: Int = 0, maxRecordBytes: Int? = nil) throws -> (StateStore<Journal>, FaultInjection) {
        var configuration = StorageConfiguration()
        let faults = FaultInjection()
        faults.delayWrites(milliseconds: delay)
        configuration.faultInjection = faults
        if let maxRecordBytes { configuration.maxRecordBytes = maxRecordBytes }
        return (try StateStore<Journal>(directory: dir, configuration: configuration, logger: logger), faults)
    }

    func waitUntil(_ condition: StateStore<Journal>.Condition, in store: StateStore<Journal>) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while store.condition != condition {
            guard ContinuousClock.now < deadline else {
                Issue.record("store stayed \(store.condition), expected \(condition)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test("a read of a change that is not durable yet says so, and is released only once it is")
    func readsWaitForDurability() async throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (store, _) = try slowStore(dir, delay: 300)
        defer { store.close() }
        let commit = try store.write { try $0.log(.init(text: "a")) }
        let seen = try store.observe { $0.texts }
        #expect(seen.value == ["a"])
        #expect(seen.sequence == commit.sequence)
        #expect(!store.isDurable(seen.sequence), "the change is visible in memory before it is written")
        let started = ContinuousClock.now
        let result = await withCheckedContinuation { continuation in
            store.whenDurable(sequence: seen.sequence) { continuation.resume(returning: $0) }
        }
        #expect(throws: Never.self) { try result.get() }
        #expect(ContinuousClock.now - started > .milliseconds(100), "released only after the slow write")
        #expect(store.isDurable(seen.sequence))
    }

    @Test("a write that changes nothing (a replay) waits for the change it looked at")
    func replayWaitsForOriginal() async throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (store, _) = try slowStore(dir, delay: 300)
        defer { store.close() }
        let original = try store.write { try $0.log(.init(text: "a")) }
        let replay = try store.write { transaction in transaction.state.texts.contains("a") }
        #expect(replay.value)
        #expect(replay.sequence == original.sequence)
        #expect(!store.isDurable(replay.sequence ?? 0))
        let answered = try await withCheckedThrowingContinuation { continuation in
            store.whenDurable(replay) { continuation.resume(with: $0) }
        }
        #expect(answered)
        #expect(store.isDurable(original.sequence ?? 0))
    }

    @Test("a failed append leaves no trace: the state is rebuilt from the disk and writes resume")
    func failedAppendIsUndone() async throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (store, faults) = try slowStore(dir)
        _ = try await store.writeDurably { try $0.log(.init(text: "a")) }
        faults.fail(.write, errno: ENOSPC)
        let conditions = Mutex<[String]>([])
        store.onConditionChange { condition in conditions.withLock { $0.append("\(condition)") } }
        do {
            _ = try await store.writeDurably { try $0.log(.init(text: "b")) }
            Issue.record("a write on a full disk was confirmed")
        } catch let error as StateStoreError {
            guard case .unavailable(let reason, let notProcessed) = error else {
                Issue.record("expected unavailable, got \(error)")
                return
            }
            #expect(notProcessed, "the log was cut back: the write is known not to be on disk")
            #expect(reason.contains("No space left on device"))
        }
        try await waitUntil(.available, in: store)
        #expect(try store.observe { $0.texts }.value == ["a"], "the failed change is gone from memory")
        #expect(conditions.withLock { $0.first } == "available")
        #expect(conditions.withLock { $0.contains { $0.hasPrefix("recovering") } })
        _ = try await store.writeDurably { try $0.log(.init(text: "c")) }
        store.close()
        let reopened = try StateStore<Journal>(directory: dir, logger: logger)
        #expect(reopened.read { $0.texts } == ["a", "c"])
        reopened.close()
    }

    @Test("a change over the record limit is refused with the limit, and undone")
    func oversizedChangeIsUndone() async throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (store, _) = try slowStore(dir, maxRecordBytes: 64)
        _ = try await store.writeDurably { try $0.log(.init(text: "a")) }
        let large = String(repeating: "x", count: 100)
        #expect(throws: StateStoreError.recordTooLarge(size: 102, limit: 64)) {
            _ = try store.write { try $0.log(.init(text: large)) }
        }
        try await waitUntil(.available, in: store)
        #expect(try store.observe { $0.texts }.value == ["a"])
        _ = try await store.writeDurably { try $0.log(.init(text: "b")) }
        store.close()
        let reopened = try StateStore<Journal>(directory: dir, logger: logger)
        #expect(reopened.read { $0.texts } == ["a", "b"])
        reopened.close()
    }
}
