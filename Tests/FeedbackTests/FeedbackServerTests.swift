import FeedbackCore
import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Integration tests against the real `retain-feedback` over TCP.
@Suite("retain-feedback over TCP", .serialized)
struct FeedbackServerTests {
    /// Starts the server on `directory` with a configuration that routes payment to "money".
    static func start(_ directory: URL) throws -> ServerProcess {
        let config = directory.appendingPathComponent("feedback.json")
        if !FileManager.default.fileExists(atPath: config.path) {
            try Data(
                #"{"routing": {"default_team": "desk", "rules": [{"category": "payment", "team": "money"}]}, "sla_minutes": {"routine": 60}}"#
                    .utf8
            )
            .write(to: config)
        }
        return try ServerProcess(
            "retain-feedback",
            arguments: [
                "serve", "--data-dir", directory.appendingPathComponent("data").path, "--config", config.path, "--log-level", "warning",
            ])
    }

    /// Everything the test reads back, to compare before and after a restart.
    static func snapshot(_ client: RPCClient, ids: [String], asOf: Int64) async throws -> [String] {
        var lines: [String] = []
        for id in ids {
            var item = try await client.unary(Retain_V1_Feedback.getFeedback, .init(itemId: id)).item
            item?.overdue = false
            lines.append("\(item as Any)")
        }
        lines.append(
            "\(try await client.unary(Retain_V1_Feedback.listFeedback, .init(sort: .oldest, page: .init(pageSize: 1000))).items.map(\.itemId))"
        )
        lines.append("\(try await client.unary(Retain_V1_Feedback.getFaq, .init()))")
        lines.append(
            "\(try await client.unary(Retain_V1_Feedback.getFeedbackStats, .init(range: .init(startMs: 1, endMs: asOf), asOfMs: asOf)))")
        lines.append("\(try await client.unary(Retain_V1_Feedback.getUserFeedbackHistory, .init(userId: "ann")).byKind)")
        return lines
    }

    static func code(_ body: () async throws -> Void) async -> (RPCStatusCode?, String?) {
        do {
            try await body()
            return (nil, nil)
        } catch let error as RPCError {
            return (error.code, error.details["field"])
        } catch {
            return (.unknown, nil)
        }
    }

    @Test("the whole workflow over the wire, with the right status codes, kept across SIGTERM and SIGKILL restarts")
    func workflowAndRestarts() async throws {
        let directory = try makeTemporaryDirectory("feedback-server")
        defer { try? FileManager.default.removeItem(at: directory) }
        var server = try Self.start(directory)
        var client = RPCClient(host: "127.0.0.1", port: server.port)

        let submitted = try await client.unary(
            Retain_V1_Feedback.submitFeedback,
            .init(
                userId: "ann", requestId: "s1", kind: .complaint, category: "payment", text: "Charged twice", channel: "app",
                reference: .init(refKind: "order", refId: "o-1"), important: true))
        let item = try #require(submitted.item)
        #expect(item.team == "money")
        // The built-in priority rules: "charged twice" is urgent and important, whatever the flags.
        #expect(item.priority == .urgentImportant)
        #expect(
            item.priorityReasons == [
                "submitter: important", "category payment: important",
                "keyword 'charged twice': urgent, important",
            ])
        #expect(!submitted.replayed)
        #expect(
            try await client.unary(
                Retain_V1_Feedback.submitFeedback,
                .init(
                    userId: "ann", requestId: "s1", kind: .complaint, category: "payment", text: "Charged twice", channel: "app",
                    reference: .init(refKind: "order", refId: "o-1"), important: true)
            ).replayed)
        let question = try #require(
            try await client.unary(
                Retain_V1_Feedback.submitFeedback,
                .init(
                    userId: "ann", requestId: "s2", kind: .question, text: "How do I get a refund?")
            ).item)
        #expect(question.team == "desk")
        // Backfilled two hours ago with a one-hour SLA: overdue.
        let late = try #require(
            try await client.unary(
                Retain_V1_Feedback.submitFeedback,
                .init(
                    userId: "bob", requestId: "s3", kind: .bug, text: "Blank page",
                    submittedAtMs: Int64(Date().timeIntervalSince1970 * 1000) - 7_200_000)
            ).item)
        #expect(late.overdue)

        // Errors with their codes and fields.
        #expect(
            await Self.code {
                _ = try await client.unary(Retain_V1_Feedback.submitFeedback, .init(userId: "ann", requestId: "s9", kind: .bug))
            }
                == (.invalidArgument, "text"))
        #expect(
            await Self.code {
                _ = try await client.unary(
                    Retain_V1_Feedback.submitFeedback,
                    .init(
                        userId: "ann", requestId: "s1", kind: .bug, text: "other"))
            } == (.alreadyExists, nil))
        #expect(
            await Self.code { _ = try await client.unary(Retain_V1_Feedback.getFeedback, .init(itemId: "fb_00000000000000000000000000")) }
                == (.notFound, nil))
        #expect(
            await Self.code { _ = try await client.unary(Retain_V1_Feedback.getFeedback, .init(itemId: "nope")) }
                == (.invalidArgument, "item_id"))
        #expect(
            await Self.code {
                _ = try await client.unary(
                    Retain_V1_Feedback.startProgress,
                    .init(
                        itemId: item.itemId, actor: "agent1", requestId: "p0"))
            } == (.failedPrecondition, nil))

        // Workflow: triage, assign, start, resolve with compensation, mark paid (twice), comment.
        _ = try await client.unary(
            Retain_V1_Feedback.triageFeedback,
            .init(
                itemId: item.itemId, actor: "lead", note: "angry customer", requestId: "t1", urgent: true, important: true))
        _ = try await client.unary(
            Retain_V1_Feedback.assignFeedback, .init(itemId: item.itemId, actor: "lead", requestId: "a1", assignee: "agent1"))
        _ = try await client.unary(Retain_V1_Feedback.startProgress, .init(itemId: item.itemId, actor: "agent1", requestId: "p1"))
        let resolved = try #require(
            try await client.unary(
                Retain_V1_Feedback.resolveFeedback,
                .init(
                    itemId: item.itemId, actor: "agent1", requestId: "r1", outcome: .fixed, answer: "Refunded",
                    compensation: .init(value: 200, asset: "points"))
            ).item)
        #expect(resolved.compensation?.state == .owed)
        #expect(resolved.compensation?.transferId == "feedback:\(item.itemId):compensation")
        let mark = Retain_V1_MarkCompensationPaidRequest(
            itemId: item.itemId, transferId: "feedback:\(item.itemId):compensation", actor: "gateway")
        #expect(try await client.unary(Retain_V1_Feedback.markCompensationPaid, mark).replayed == false)
        #expect(try await client.unary(Retain_V1_Feedback.markCompensationPaid, mark).replayed == true)
        _ = try await client.unary(
            Retain_V1_Feedback.addComment, .init(itemId: item.itemId, author: "ann", text: "Thanks!", requestId: "c1"))
        _ = try await client.unary(
            Retain_V1_Feedback.resolveFeedback,
            .init(
                itemId: question.itemId, actor: "agent2", requestId: "r2", outcome: .answered, answer: "Use the refund form"))
        let overdue = try await client.unary(Retain_V1_Feedback.listOverdue, .init())
        #expect(overdue.items.map(\.itemId) == [late.itemId])
        let faq = try await client.unary(Retain_V1_Feedback.getFaq, .init())
        #expect(faq.entries.map(\.answer) == ["Use the refund form"])
        let full = try #require(try await client.unary(Retain_V1_Feedback.getFeedback, .init(itemId: item.itemId)).item)
        #expect(full.history.map(\.toStatus) == [.new, .triaged, .assigned, .inProgress, .resolved, .resolved])
        #expect(full.history[1].note == "angry customer")
        #expect(full.comments.map(\.text) == ["Thanks!"])

        let ids = [item.itemId, question.itemId, late.itemId]
        let asOf = Int64(Date().timeIntervalSince1970 * 1000) + 1000
        let before = try await Self.snapshot(client, ids: ids, asOf: asOf)

        // Graceful restart.
        await client.close()
        #expect(server.stop() == 0)
        server = try Self.start(directory)
        client = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await Self.snapshot(client, ids: ids, asOf: asOf) == before)

        // A crash right after acknowledged writes loses none of them.
        let reopened = try #require(
            try await client.unary(
                Retain_V1_Feedback.reopenFeedback,
                .init(
                    itemId: item.itemId, actor: "ann", note: "charged again", requestId: "o1")
            ).item)
        #expect(reopened.status == .reopened)
        let after = try await Self.snapshot(client, ids: ids, asOf: asOf)
        #expect(after != before)
        await client.close()
        server.kill()
        server = try Self.start(directory)
        client = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await Self.snapshot(client, ids: ids, asOf: asOf) == after)
        // Retries after the restart are still recognised.
        #expect(
            try await client.unary(
                Retain_V1_Feedback.reopenFeedback,
                .init(
                    itemId: item.itemId, actor: "ann", note: "charged again", requestId: "o1")
            ).replayed)
        #expect(try await client.unary(Retain_V1_Feedback.markCompensationPaid, mark).replayed)
        await client.close()
        #expect(server.stop() == 0)
    }

    @Test("a bad configuration file stops the server with a message naming the entry")
    func badConfiguration() throws {
        let directory = try makeTemporaryDirectory("feedback-config")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("feedback.json")
        try Data(#"{"routing": {"rules": [{"category": "Payment", "team": "x"}]}}"#.utf8).write(to: config)
        let error = #expect(throws: ServerProcessError.self) {
            _ = try ServerProcess("retain-feedback", arguments: ["serve", "--config", config.path], timeout: .seconds(20))
        }
        #expect(error?.description.contains("routing.rules[0].category") == true)
    }
}
