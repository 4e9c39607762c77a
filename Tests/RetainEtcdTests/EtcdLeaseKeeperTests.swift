import Foundation
import RetainEtcd
import RetainProcess
import Synchronization
import Testing

@Suite("EtcdLeaseKeeper against a real etcd", .timeLimit(.minutes(1)))
struct EtcdLeaseKeeperTests {
    @Test("validUntil is never later than when etcd expires the key once keep-alives stop")
    func validUntilBeforeExpiry() async throws {
        try await withEtcd { _, client in
            let key = uniquePrefix("keeper") + "owner"
            let keeper = EtcdLeaseKeeper(client: client, ttlSeconds: 2, logger: testLogger)
            let lease = try await keeper.start()
            #expect(keeper.leaseID == lease && keeper.isValid)
            let revision = try await client.put(key, [1], lease: lease)
            // Long enough for several keep-alives: the key outlives the TTL.
            try await Task.sleep(for: .milliseconds(2500))
            #expect(keeper.isValid && keeper.validUntil > .now)
            #expect(try await client.get(key) != nil)

            await keeper.stop(revoke: false)
            let validUntil = keeper.validUntil
            #expect(!keeper.isValid)
            let deletedAt = try await firstDelete(on: client.watch(prefix: key, fromRevision: revision + 1), within: .seconds(5))
            let deleted = try #require(deletedAt)
            #expect(validUntil <= deleted, "etcd expired the key \(validUntil - deleted) before validUntil")
            // And not needlessly early: within the TTL plus etcd's 500 ms expiry check.
            #expect(deleted - validUntil < .seconds(3))
        }
    }

    @Test("a keeper whose etcd hangs reports the lease lost when validUntil passes, before etcd expires it")
    func lostWhenEtcdHangs() async throws {
        try await withEtcd(requestTimeout: .milliseconds(500)) { etcd, client in
            let key = uniquePrefix("keeper") + "owner"
            let keeper = EtcdLeaseKeeper(client: client, ttlSeconds: 2, logger: testLogger)
            // When and at which validUntil the loss was reported.
            let lost = Mutex<(at: ContinuousClock.Instant, validUntil: ContinuousClock.Instant)?>(nil)
            let lostCount = Atomic<Int>(0)
            keeper.onLost {
                lostCount.add(1, ordering: .relaxed)
                let validUntil = keeper.validUntil
                lost.withLock { $0 = (.now, validUntil) }
            }
            let lease = try await keeper.start()
            let revision = try await client.put(key, [1], lease: lease)
            let watch = client.watch(prefix: key, fromRevision: revision + 1)
            try await Task.sleep(for: .milliseconds(1000))
            #expect(keeper.isValid)

            etcd.suspend()
            let suspendedAt = ContinuousClock.now
            #expect(await eventually(within: .seconds(3)) { lost.withLock { $0 != nil } })
            let loss = try #require(lost.withLock { $0 })
            #expect(!keeper.isValid)
            // Reported when validUntil passed, which is at most TTL - margin after the last answer.
            #expect(loss.at >= loss.validUntil && loss.at - loss.validUntil < .milliseconds(300))
            #expect(loss.at - suspendedAt <= .milliseconds(1800))

            etcd.resume()
            let deletedAt = try await firstDelete(on: watch, within: .seconds(6))
            let deleted = try #require(deletedAt)
            #expect(loss.validUntil <= deleted)
            #expect(lostCount.load(ordering: .relaxed) == 1)
            let lateHandler = Atomic<Bool>(false)
            keeper.onLost { lateHandler.store(true, ordering: .relaxed) }
            let ranAtOnce = lateHandler.load(ordering: .relaxed)
            #expect(ranAtOnce, "a handler registered after the loss runs at once")
            await keeper.stop(revoke: true)
        }
    }
}
