import Foundation
@testable import RetainEtcd
import RetainProcess
import Synchronization
import Testing

@Suite("EtcdClient against a real etcd", .timeLimit(.minutes(1)))
struct EtcdClientTests {
    @Test("put, get, range by prefix and delete")
    func keys() async throws {
        try await withEtcd { _, client in
            let prefix = uniquePrefix("keys")
            let first = try await client.put(prefix + "a", Array("one".utf8))
            let second = try await client.put(prefix + "b", [0, 255, 7])
            try await client.put("/outside", [1])
            #expect(second > first)
            let a = try #require(try await client.get(prefix + "a"))
            #expect(a.value == Array("one".utf8) && a.createRevision == first && a.modRevision == first && a.version == 1 && a.lease == 0)
            #expect(try await client.get(prefix + "missing") == nil)
            let (values, revision) = try await client.range(prefix: prefix)
            #expect(values.map(\.key) == [prefix + "a", prefix + "b"])
            #expect(values[1].value == [0, 255, 7] && revision >= second)
            try await client.delete(prefix + "a")
            try await client.delete(prefix + "never-existed")
            #expect(try await client.get(prefix + "a") == nil)
            #expect(try await client.range(prefix: prefix).values.map(\.key) == [prefix + "b"])
        }
    }

    @Test("sequential calls reuse one keep-alive connection")
    func connectionReuse() async throws {
        try await withEtcd { _, client in
            let key = uniquePrefix("reuse") + "k"
            for value in 0..<20 {
                try await client.put(key, [UInt8(value)])
                #expect(try await client.get(key)?.value == [UInt8(value)])
            }
            #expect(client.connectionsOpened.load(ordering: .relaxed) == 1)
        }
    }

    @Test("txn creates a key only if absent, and only one of two concurrent creators wins")
    func compareAndSwap() async throws {
        try await withEtcd { _, client in
            let key = uniquePrefix("txn") + "leader"
            func create(_ owner: String) -> EtcdTxn {
                EtcdTxn(
                    compare: [EtcdCompare(key: key, target: .version(0), result: .equal)],
                    success: [.put(key: key, value: Array(owner.utf8), lease: nil)],
                    failure: [.get(key: key)])
            }
            async let one = client.txn(create("one"))
            async let two = client.txn(create("two"))
            let results = try await [one, two]
            #expect(results.filter(\.succeeded).count == 1)
            let loser = try #require(results.first { !$0.succeeded })
            let winner = try #require(results.first { $0.succeeded })
            let stored = try #require(try await client.get(key))
            // The loser's failure branch read the winner's key.
            #expect(loser.gets.count == 1 && loser.gets[0] == [stored])
            #expect(winner.gets.isEmpty && winner.revision == stored.modRevision)

            // Compare-and-swap on mod revision: a stale revision fails, the current one succeeds.
            let stale = EtcdTxn(
                compare: [EtcdCompare(key: key, target: .modRevision(stored.modRevision - 1), result: .equal)],
                success: [.put(key: key, value: [9], lease: nil)])
            #expect(try await client.txn(stale).succeeded == false)
            let fresh = EtcdTxn(
                compare: [
                    EtcdCompare(key: key, target: .modRevision(stored.modRevision), result: .equal),
                    EtcdCompare(key: key, target: .value(stored.value), result: .equal),
                ],
                success: [.delete(key: key), .get(key: key)])
            let swapped = try await client.txn(fresh)
            #expect(swapped.succeeded && swapped.gets == [[]])
        }
    }

    @Test("a lease keeps its key while kept alive; when it expires, the key is deleted")
    func leaseExpiry() async throws {
        try await withEtcd { _, client in
            let key = uniquePrefix("lease") + "owner"
            let lease = try await client.grantLease(ttlSeconds: 1)
            try await client.put(key, [1], lease: lease)
            #expect(try await client.get(key)?.lease == lease)
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await client.keepAliveOnce(lease: lease) >= 1)
            }
            #expect(try await client.get(key) != nil, "kept alive past its TTL")
            let expired = try await eventually(within: .seconds(4)) { try await client.get(key) == nil }
            #expect(expired)
            #expect(try await client.keepAliveOnce(lease: lease) <= 0)
            await #expect(throws: EtcdError.self) { try await client.revokeLease(lease) }

            // Revoking deletes at once.
            let other = try await client.grantLease(ttlSeconds: 30)
            try await client.put(key, [2], lease: other)
            try await client.revokeLease(other)
            #expect(try await client.get(key) == nil)
        }
    }

    @Test("watch sees puts and deletes in order, and resumes from a revision")
    func watch() async throws {
        try await withEtcd { etcd, client in
            let prefix = uniquePrefix("watch")
            let start = try await client.range(prefix: prefix).revision + 1
            try await client.put(prefix + "a", [1])
            try await client.put(prefix + "b", [2])
            try await client.delete(prefix + "a")
            try await client.put("/elsewhere", [3])

            var seen: [EtcdWatchEvent] = []
            for try await event in client.watch(prefix: prefix, fromRevision: start) {
                seen.append(event)
                if seen.count == 3 { break }
            }
            #expect(seen.map(\.kind) == [.put, .put, .delete])
            #expect(seen.map(\.keyValue.key) == [prefix + "a", prefix + "b", prefix + "a"])
            #expect(seen[0].keyValue.value == [1] && seen[0].revision == start)
            #expect(seen.map(\.revision) == seen.map(\.revision).sorted() && Set(seen.map(\.revision)).count == 3)

            // Resuming after the second event sees the delete first, then a live put.
            let resumed = client.watch(prefix: prefix, fromRevision: seen[1].revision + 1)
            var iterator = resumed.makeAsyncIterator()
            let delete = try #require(try await iterator.next())
            #expect(delete.kind == .delete && delete.revision == seen[2].revision)
            let live = try await client.put(prefix + "c", [4])
            let put = try #require(try await iterator.next())
            #expect(put.kind == .put && put.revision == live && put.keyValue.value == [4])

            // When etcd dies, the watch ends by throwing rather than hanging.
            etcd.kill()
            await #expect(throws: EtcdError.self) { _ = try await iterator.next() }
        }
    }

    @Test("a hung (SIGSTOPped) etcd fails calls after the request timeout instead of hanging")
    func requestTimeout() async throws {
        try await withEtcd(requestTimeout: .milliseconds(500)) { etcd, client in
            let key = uniquePrefix("timeout") + "k"
            try await client.put(key, [1])
            etcd.suspend()
            defer { etcd.resume() }
            for call in 0..<2 {
                let started = ContinuousClock.now
                do {
                    if call == 0 { _ = try await client.get(key) } else { try await client.put(key, [2]) }
                    Issue.record("a call to a stopped etcd succeeded")
                } catch let error as EtcdError {
                    #expect(error.kind == .unavailable)
                }
                #expect(ContinuousClock.now - started < .milliseconds(1500))
            }
            let watchStarted = ContinuousClock.now
            await #expect(throws: EtcdError.self) {
                for try await _ in client.watch(prefix: key) {}
            }
            #expect(ContinuousClock.now - watchStarted < .milliseconds(1500))
            etcd.resume()
            #expect(await eventually(within: .seconds(3)) { (try? await client.get(key)) != nil })
        }
    }
}
