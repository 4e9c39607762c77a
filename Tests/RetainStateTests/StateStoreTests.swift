import Foundation
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
}
