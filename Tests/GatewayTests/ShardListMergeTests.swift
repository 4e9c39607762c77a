import GatewayCore
import RetainProto
import Testing

/// Lists merged from several shards: the page token that holds each shard's position, and the
/// k-way merge, checked against the list a single instance would page through.
@Suite("Merging shards' lists")
struct ShardListMergeTests {
    @Test("a merged page token names each shard's position and is refused for another set of shards")
    func cursor() throws {
        var cursor = ShardCursor(shards: ["profile-0", "profile-1", "profile-2"])
        cursor.positions = [.at("s1.00ff.12.user/é+?"), .done, .start]
        let text = cursor.encoded
        #expect(text.hasPrefix("m1.") && !text.contains("=") && !text.contains("/") && !text.contains("+"))
        #expect(try ShardCursor(decoding: text, shards: ["profile-0", "profile-1", "profile-2"]) == cursor)
        #expect(try ShardCursor(decoding: "", shards: ["a", "b"]).positions == [.start, .start])
        #expect(throws: ShardMergeError.invalidPageToken("the page token was issued for another set of shards")) {
            _ = try ShardCursor(decoding: text, shards: ["profile-0", "profile-1"])
        }
        #expect(throws: ShardMergeError.invalidPageToken("the page token was issued for another set of shards")) {
            _ = try ShardCursor(decoding: text, shards: ["profile-0", "profile-9", "profile-2"])
        }
        #expect(throws: ShardMergeError.invalidPageToken("malformed page token")) {
            _ = try ShardCursor(decoding: "s1.0000000000000000.0.u1", shards: ["a"])
        }
        cursor.positions = [.done, .done, .done]
        #expect(cursor.encoded == "", "a list that is over has no next page")
    }

    /// A shard holding a sorted list, paged as the services page: a token is the offset of the
    /// next item (opaque to the merge).
    private struct FakeShard {
        var items: [Int]
        func page(token: String, size: Int) -> PagedMerge<Int>.ShardPage {
            let start = Int(token) ?? 0
            let end = min(start + size, items.count)
            return .init(items: Array(items[start..<end]), nextPageToken: end < items.count ? String(end) : "", total: UInt64(items.count))
        }
    }

    /// Pages through `shards` with the merge until the token is empty; the items in page order.
    private func pageThrough(_ shards: [FakeShard], size: Int) throws -> (items: [Int], pages: Int) {
        let ids = shards.indices.map { "s\($0)" }
        var token = ""
        var items: [Int] = []
        var pages = 0
        repeat {
            let cursor = try ShardCursor(decoding: token, shards: ids)
            var asked: [Int: PagedMerge<Int>.ShardPage] = [:]
            for (index, position) in cursor.positions.enumerated() {
                guard let shardToken = position.token else { continue }
                asked[index] = shards[index].page(token: shardToken, size: size)
            }
            var merged = PagedMerge(cursor: cursor, pages: asked, size: size, precedes: <)
            for advance in merged.advances {
                merged.advance(
                    advance.shard, to: shards[advance.shard].page(token: advance.from.token ?? "", size: advance.count).nextPageToken)
            }
            #expect(merged.items.count <= size)
            #expect(merged.total == UInt64(shards.reduce(0) { $0 + $1.items.count }) || cursor.positions.contains(.done))
            items += merged.items
            token = merged.cursor.encoded
            pages += 1
        } while !token.isEmpty && pages < 1000
        return (items, pages)
    }

    @Test("paging through the merged list gives every item once, in order, in full pages", arguments: [1, 3, 7, 50])
    func pagingMatchesOneList(size: Int) throws {
        var generator = SplitMix(seed: UInt64(size))
        let shards = (0..<3).map { _ in FakeShard(items: (0..<Int(generator.next() % 40)).map { _ in Int(generator.next() % 100) }.sorted())
        }
        let (items, pages) = try pageThrough(shards, size: size)
        let expected = shards.flatMap(\.items).sorted()
        #expect(items == expected)
        #expect(pages == max(1, (expected.count + size - 1) / size), "every page but the last is full")
    }

    @Test("equal items come from the lower shard first, each shard's order kept; a shard with nothing left is done")
    func ties() throws {
        let cursor = ShardCursor(shards: ["a", "b"])
        let merged = PagedMerge(
            cursor: cursor,
            pages: [
                0: .init(items: [(1, "a1"), (2, "a2")], nextPageToken: "", total: 2),
                1: .init(items: [(1, "b1"), (1, "b2"), (3, "b3")], nextPageToken: "more", total: 9),
            ], size: 4
        ) { $0.0 < $1.0 }
        #expect(merged.items.map(\.1) == ["a1", "b1", "b2", "a2"])
        #expect(merged.total == 11)
        #expect(merged.cursor.positions[0] == .done)
        #expect(merged.advances == [.init(shard: 1, from: .start, count: 2)], "b's token after its two taken items is still to be fetched")
    }

    @Test("RecordActivities split by owner: parts in the caller's order, outcomes and errors back at the caller's indexes")
    func activityBatch() {
        let events = ["u1", "u2", "u3", "u4", "u5"].map { Retain_V1_ActivityEvent(userId: $0, eventId: "e-\($0)") }
        let split = ActivityBatchSplit(events: events) { ["u1": 0, "u2": 1, "u3": 0, "u4": 2, "u5": 1][$0]! }
        #expect(split.shards == [0, 1, 2])
        #expect(split.request(for: 0).events.map(\.userId) == ["u1", "u3"])
        #expect(split.request(for: 1).events.map(\.userId) == ["u2", "u5"])
        let merged = split.merge([
            0: .success(
                .init(
                    outcomes: [.accepted, .unknownUser], acceptedCount: 1, rejectedCount: 1,
                    errors: [.init(index: 1, code: 5, message: "user 'u3' not found")])),
            1: .success(.init(outcomes: [.duplicate, .accepted], acceptedCount: 1, duplicateCount: 1)),
            2: .failure(.init(shard: "profile-2", code: 14, message: "connection refused")),
        ])
        #expect(merged.outcomes == [.accepted, .duplicate, .unknownUser, .notProcessed, .accepted])
        #expect(merged.acceptedCount == 2 && merged.duplicateCount == 1 && merged.rejectedCount == 2)
        #expect(merged.errors.map(\.index) == [2, 3])
        #expect(merged.errors[1].code == 14 && merged.errors[1].message.contains("profile-2"))
    }

    @Test("every call of a sharded service that is not about one user has a merge rule")
    func everyMethodHasARule() {
        let unkeyed = MethodCatalog.methods.values.filter { ScatterRule.shardedServices.contains($0.serviceName) && !$0.isUserKeyed }
        #expect(unkeyed.count >= 20)
        for method in unkeyed {
            #expect(ScatterRule.rule(for: method.path) != nil, "\(method.path) has no rule in docs/CLUSTER.md")
        }
        #expect(ScatterRule.rule(for: Retain_V1_Profile.getProfile.path) == nil)
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
