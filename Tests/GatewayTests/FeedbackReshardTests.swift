import Foundation
import RetainCluster
import RetainEtcd
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// Online resharding of Feedback end to end, real processes over TCP (docs/CLUSTER.md): etcd,
/// three Feedback processes, a gateway routing Feedback by the ring key, and `retain cluster
/// reshard --service feedback` growing the ring from 2 to 3 shards while submissions and
/// comments keep coming through the gateway. The driver is SIGKILLed after the fence and run
/// again; afterwards every acknowledged item is on exactly one shard, its user's new owner,
/// with each acknowledged comment once, the old owners refuse moved users and items, and the
/// reports (lists, FAQ, statistics) over the seeded items are the same as before the reshard.
@Suite("Online resharding 2 -> 3 Feedback shards under load", .serialized)
struct FeedbackReshardTests {
    static let users = (0..<120).map { String(format: "fb%03d", $0) }
    static let questions = [
        "How do I change my email?", "How can I reset my password?", "Where is my invoice?", "Can I delete my account?",
    ]

    /// The load's record: each acknowledged item's user and its acknowledged comments' ids.
    final class Oracle: Sendable {
        struct State {
            var items: [String: String] = [:]
            var comments: [String: [String]] = [:]
            var retried = 0
            var stopped = false
            /// Totals of the seeded items' list answered during the reshard (always all of them).
            var seededTotals: [UInt64: Int] = [:]
            var reportsRefused = 0
        }
        let state = Mutex(State())
    }

    /// The seeded items' reports: their list (ids and statuses, oldest first), the FAQ
    /// (groups, ask counts, question, answer, members) and the statistics of their teams (all
    /// but the median, which the gateway merges as a weighted median of the shards' medians).
    static func reports(_ gateway: RPCClient, nowMs: Int64) async throws -> [String] {
        let listed = try await gateway.unary(
            Retain_V1_Feedback.listFeedback,
            .init(filter: .init(categories: ["payment", "account"]), sort: .oldest, page: .init(pageSize: 1000)))
        let faq = try await gateway.unary(Retain_V1_Feedback.getFaq, .init(page: .init(pageSize: 100)))
        var stats = try await gateway.unary(
            Retain_V1_Feedback.getFeedbackStats,
            .init(range: .init(startMs: 1, endMs: nowMs), teams: ["billing", "accounts"], asOfMs: nowMs))
        stats.medianTimeToResolveMs = 0
        return [
            "total \(listed.pageInfo?.total ?? 0)",
            Self.listLines(listed.items).joined(separator: "\n"),
            faq.entries.map { "\($0.groupId) \($0.askCount) \($0.question) \($0.answer) \($0.itemIds.sorted())" }.joined(separator: "\n"),
            "\(stats)",
        ]
    }

    /// The list's items as lines (time, id, status, user), oldest first. The merged list must
    /// be in time order; items of the same millisecond on different shards come by shard
    /// (docs/CLUSTER.md), and a reshard moves users between shards, so such ties are put in id
    /// order here: the report compared is the set of items in time order, ties in a fixed order.
    static func listLines(_ items: [Retain_V1_FeedbackItem]) -> [String] {
        let times = items.map(\.createdAtMs)
        #expect(times == times.sorted(), "the merged list is oldest first")
        return items.sorted { ($0.createdAtMs, $0.itemId) < ($1.createdAtMs, $1.itemId) }
            .map { "\($0.createdAtMs) \($0.itemId) \($0.status) \($0.userId)" }
    }

    /// The lines of two reports that differ, each report's section named, for a failure's message.
    static func difference(_ before: [String], _ after: [String]) -> String {
        var lines: [String] = []
        for (section, (old, new)) in zip(before, after).enumerated() where old != new {
            let oldLines = old.split(separator: "\n", omittingEmptySubsequences: false)
            let newLines = new.split(separator: "\n", omittingEmptySubsequences: false)
            lines.append("section \(section): \(oldLines.count) lines before, \(newLines.count) after")
            lines += Set(oldLines).subtracting(newLines).sorted().map { "- \($0)" }
            lines += Set(newLines).subtracting(oldLines).sorted().map { "+ \($0)" }
        }
        return lines.joined(separator: "\n")
    }

    /// Submits complaints and comments on them through the gateway until stopped, sending a
    /// refused call again with the same request id until it is acknowledged.
    static func load(_ gateway: RPCClient, _ oracle: Oracle, worker: Int) async {
        var sent = 0
        var mine: [String] = []
        var random = SystemRandomNumberGenerator()
        while !oracle.state.withLock({ $0.stopped }) {
            sent += 1
            let requestID = "w\(worker)-\(sent)"
            if mine.isEmpty || Int.random(in: 0..<10, using: &random) < 6 {
                let user = users.randomElement(using: &random)!
                let request = Retain_V1_SubmitFeedbackRequest(
                    userId: user, requestId: requestID, kind: .complaint, category: "load", text: "load \(requestID)")
                while true {
                    do {
                        let answer = try await gateway.unary(
                            Retain_V1_Feedback.submitFeedback, request, options: CallOptions(timeout: .seconds(10)))
                        let id = answer.item?.itemId ?? ""
                        oracle.state.withLock { $0.items[id] = user }
                        mine.append(id)
                        break
                    } catch {
                        oracle.state.withLock { $0.retried += 1 }
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                }
            } else {
                let item = mine.randomElement(using: &random)!
                let request = Retain_V1_AddCommentRequest(
                    itemId: item, author: "agent", text: requestID, staffOnly: true, requestId: requestID)
                while true {
                    do {
                        let answer = try await gateway.unary(
                            Retain_V1_Feedback.addComment, request, options: CallOptions(timeout: .seconds(10)))
                        oracle.state.withLock { $0.comments[item, default: []].append(answer.comment?.commentId ?? "") }
                        break
                    } catch {
                        oracle.state.withLock { $0.retried += 1 }
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                }
            }
        }
    }

    @Test(
        "2 -> 3 shards under load, the driver killed after the fence and run again: every acknowledged write once, on its new owner; reports unchanged"
    )
    func reshardUnderLoad() async throws {
        let harness = try await ReshardHarness(service: "feedback")
        do {
            let oracle = Oracle()
            var ready = false
            for _ in 0..<200 where !ready {
                ready = (try? await harness.gateway.unary(Retain_V1_Feedback.getFeedbackStats, .init())) != nil
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(ready)
            // Seed: a payment complaint from every user, a question from every third, answered
            // (FAQ groups), a comment on every fifth complaint.
            var seeded = 0
            for (index, user) in Self.users.enumerated() {
                let complaint = try await harness.gateway.unary(
                    Retain_V1_Feedback.submitFeedback,
                    .init(userId: user, requestId: "seed", kind: .complaint, category: "payment", text: "charged for \(user)"))
                let id = try #require(complaint.item?.itemId)
                oracle.state.withLock { $0.items[id] = user }
                seeded += 1
                if index % 5 == 0 {
                    let comment = try await harness.gateway.unary(
                        Retain_V1_Feedback.addComment, .init(itemId: id, author: "agent", text: "looking", requestId: "seed-c"))
                    oracle.state.withLock { $0.comments[id, default: []].append(comment.comment?.commentId ?? "") }
                }
                if index % 3 == 0 {
                    let question = try await harness.gateway.unary(
                        Retain_V1_Feedback.submitFeedback,
                        .init(
                            userId: user, requestId: "seed-q", kind: .question, category: "account",
                            text: Self.questions[(index / 3) % Self.questions.count]))
                    let questionID = try #require(question.item?.itemId)
                    oracle.state.withLock { $0.items[questionID] = user }
                    seeded += 1
                    _ = try await harness.gateway.unary(
                        Retain_V1_Feedback.resolveFeedback,
                        .init(itemId: questionID, actor: "agent", requestId: "seed-r", outcome: .answered, answer: "see settings \(index)"))
                }
            }
            let seededIDs = Set(oracle.state.withLock { $0.items.keys })
            let nowMs = Int64(Date().timeIntervalSince1970 * 1000) + 60_000
            let before = try await Self.reports(harness.gateway, nowMs: nowMs)
            let seededList = try await harness.gateway.unary(
                Retain_V1_Feedback.listFeedback,
                .init(filter: .init(categories: ["payment", "account"]), sort: .oldest, page: .init(pageSize: 1000))
            ).items
            let ties = zip(seededList, seededList.dropFirst()).filter { $0.createdAtMs == $1.createdAtMs && $0.userId != $1.userId }
            print("feedback reshard: \(ties.count) neighbours in the seeded list share a millisecond across users")
            #expect(before[0] == "total \(seeded)")

            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<2 { group.addTask { await Self.load(harness.gateway, oracle, worker: worker) } }
                    // A reader of a merged report: never a moved item counted twice or missing.
                    group.addTask {
                        while !oracle.state.withLock({ $0.stopped }) {
                            do {
                                let page = try await harness.gateway.unary(
                                    Retain_V1_Feedback.listFeedback,
                                    .init(filter: .init(categories: ["payment", "account"]), page: .init(pageSize: 1)))
                                oracle.state.withLock { $0.seededTotals[page.pageInfo?.total ?? 0, default: 0] += 1 }
                            } catch {
                                oracle.state.withLock { $0.reportsRefused += 1 }
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            let (killedOutput, output) = try await harness.addKillingDriverAfterFence("feedback-2")
            try await Task.sleep(for: .milliseconds(500))
            oracle.state.withLock { $0.stopped = true }
            await load.value
            let seen = oracle.state.withLock { $0 }
            print(
                "feedback reshard: seeded totals \(seen.seededTotals), \(seen.reportsRefused) refused; \(seen.items.count) items, \(seen.comments.values.map(\.count).reduce(0, +)) comments acknowledged, \(seen.retried) retried\n\(killedOutput)\n\(output)"
            )

            // Every item is on exactly one shard, its user's owner on the new ring, and no other item exists.
            let ring = HashRing(instanceIDs: ["feedback-0", "feedback-1", "feedback-2"])
            let old = HashRing(instanceIDs: ["feedback-0", "feedback-1"])
            var holders: [String: [String]] = [:]
            for shard in ["feedback-0", "feedback-1", "feedback-2"] {
                let client = harness.client(shard)
                var token = ""
                repeat {
                    let page = try await client.unary(
                        Retain_V1_Feedback.listFeedback, .init(sort: .oldest, page: .init(pageSize: 1000, pageToken: token)))
                    for item in page.items { holders[item.itemId, default: []].append(shard) }
                    token = page.pageInfo?.nextPageToken ?? ""
                } while !token.isEmpty
                await client.close()
            }
            #expect(Set(holders.keys) == Set(seen.items.keys), "items on the shards are exactly the acknowledged ones")
            var moved = 0
            for (id, user) in seen.items {
                let owner = "feedback-\(ring.owner(of: user)!)"
                #expect(holders[id] == [owner], "\(id) of \(user)")
                let item = try await harness.gateway.unary(Retain_V1_Feedback.getFeedback, .init(itemId: id)).item
                #expect(item?.userId == user)
                let comments = item?.comments.map(\.commentId) ?? []
                #expect(comments.sorted() == (seen.comments[id] ?? []).sorted(), "\(id): each acknowledged comment once")
                let previous = "feedback-\(old.owner(of: user)!)"
                if previous != owner {
                    moved += 1
                    // An item the old owner held (seeded before the reshard) is refused there as moved.
                    guard seededIDs.contains(id) else { continue }
                    let client = harness.client(previous)
                    let refused = await ReshardTests.status {
                        _ = try await client.unary(Retain_V1_Feedback.getFeedback, .init(itemId: id))
                    }
                    #expect(refused?.code == .unavailable && refused?.details["moved"] == "true", "\(id): \(String(describing: refused))")
                    let history = await ReshardTests.status {
                        _ = try await client.unary(Retain_V1_Feedback.getUserFeedbackHistory, .init(userId: user))
                    }
                    #expect(history?.code == .unavailable && history?.details["moved"] == "true", "\(user)")
                    await client.close()
                }
            }
            #expect(moved > 40, "about a third of the items moved: \(moved)")
            #expect(seen.seededTotals.keys.sorted() == [UInt64(seeded)], "seeded list totals seen: \(seen.seededTotals)")
            #expect(seen.items.count > seeded + 50, "the load ran through the reshard")
            let after = try await Self.reports(harness.gateway, nowMs: nowMs)
            #expect(after == before, "reports differ after the reshard:\n\(Self.difference(before, after))")
            let stored = try await harness.writer.get(harness.keys.ring(service: "retain.v1.Feedback"))
            #expect(stored.flatMap { RingRecord(json: Data($0.value)) }?.version == 2)
            #expect(try await harness.writer.get(harness.keys.reshard(service: "retain.v1.Feedback")) == nil)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
