import FeedbackCore
import Foundation
import Logging
import RetainProto
import RetainState
import Testing

@Suite("snapshot and log recovery")
struct PersistenceTests {
    /// Everything a reader can see of a state, for comparisons.
    static func view(_ state: borrowing FeedbackState, nowMs: Int64) throws -> [String] {
        var lines: [String] = []
        for index in 0..<state.itemCount {
            let id = state.items[index].key.description
            lines.append("\(try state.item(id, nowMs: nowMs))")
            let user = try state.item(id, nowMs: nowMs).userId
            lines.append("\(try state.item(id, forUser: user, nowMs: nowMs).timeline)")
        }
        for sort in [Retain_V1_FeedbackSort.newest, .priority, .due] {
            lines.append(
                "\(try state.list(.init(filter: .init(statuses: [.new, .triaged, .reopened]), sort: sort, page: .init(pageSize: 1000)), nowMs: nowMs))"
            )
        }
        lines.append("\(try state.faqPage(.init(page: .init(pageSize: 1000))))")
        lines.append("\(state.stats(.init(range: .init(startMs: 1, endMs: nowMs + 1)), nowMs: nowMs))")
        lines.append("\(try state.listOverdue(.init(page: .init(pageSize: 1000)), nowMs: nowMs))")
        return lines
    }

    /// A desk with items in every status, FAQ groups (one question moved between groups) and a
    /// paid compensation.
    static func desk() throws -> FeedbackDesk {
        var (desk, _) = try ListingTests.populated(200, seed: 11)
        for (index, text) in ["How do I pay?", "how do i pay", "How do I pay??", "Where is my parcel?"].enumerated() {
            let id = try desk.submit(user: "q\(index)", kind: .question, category: "payment", text: text).itemId
            try desk.resolve(id, outcome: .answered, answer: "answer \(index)")
            if index == 1 {
                try desk.reopen(id)
                try desk.triage(id, category: "delivery")
                try desk.resolve(id, outcome: .answered, answer: "moved")
            }
        }
        let complaint = try desk.submit(kind: .complaint).itemId
        try desk.resolve(complaint, compensation: .init(value: 7, asset: "points"))
        try desk.markPaid(complaint)
        try desk.comment(complaint, text: "thanks")
        try desk.comment(complaint, text: "note: VIP", author: "agent1", staffOnly: true)
        try desk.comment(complaint, text: "Glad we could help", author: "agent1")
        return desk
    }

    @Test("a store recovers the same state from a snapshot plus the log after it, and from a snapshot alone")
    func recovery() async throws {
        let desk = try Self.desk()
        let expected = try Self.view(desk.state, nowMs: desk.now)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("feedback-state-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "test")
        let half = desk.log.count / 2
        do {
            let store = try StateStore<FeedbackState>(directory: directory, logger: logger)
            for entry in desk.log[..<half] { _ = try await store.writeDurably { try $0.log(entry) } }
            #expect(try store.snapshot() != nil)
            for entry in desk.log[half...] { _ = try await store.writeDurably { try $0.log(entry) } }
            store.close()
        }
        do {
            let store = try StateStore<FeedbackState>(directory: directory, logger: logger)
            #expect(try store.read { try Self.view($0, nowMs: desk.now) } == expected)
            #expect(try store.snapshot() != nil)
            store.close()
        }
        let store = try StateStore<FeedbackState>(directory: directory, logger: logger)
        #expect(try store.read { try Self.view($0, nowMs: desk.now) } == expected)
        store.close()
    }

    @Test("replaying the log into a fresh state gives the same state")
    func replay() throws {
        let desk = try Self.desk()
        var replica = FeedbackState()
        for entry in desk.log { try replica.apply(entry) }
        #expect(try Self.view(replica, nowMs: desk.now) == Self.view(desk.state, nowMs: desk.now))
    }
}
