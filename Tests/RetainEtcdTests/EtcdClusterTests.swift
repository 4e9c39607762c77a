import Foundation
import RetainEtcd
import RetainProcess
import Testing

@Suite("EtcdClient against a three-member etcd", .timeLimit(.minutes(1)))
struct EtcdClusterTests {
    @Test("the client keeps answering when the member in use is killed, and when the next one hangs")
    func failover() async throws {
        let cluster = try await offPool { try EtcdCluster(members: 3, configuration: fastEtcd) }
        defer { cluster.shutdown() }
        let client = EtcdClient(endpoints: cluster.endpoints, requestTimeout: .seconds(1), logger: testLogger)
        let key = uniquePrefix("cluster") + "k"
        try await client.put(key, [1])
        #expect(client.currentEndpoint == cluster.endpoints[0])

        cluster.kill(member: 0)
        // A new leader may be needed (if member 0 led): allow an election's worth of retries.
        let afterKill = try await retrying(for: .seconds(8)) { try await client.put(key, [2]) }
        #expect(afterKill != nil)
        #expect(try await client.get(key)?.value == [2])
        let inUse = try #require(client.currentEndpoint)
        #expect(inUse != cluster.endpoints[0])

        try await offPool { try cluster.restart(member: 0) }
        let hung = try #require(cluster.endpoints.firstIndex(of: inUse))
        cluster.stop(member: hung)
        defer { cluster.continue(member: hung) }
        let afterStop = try await retrying(for: .seconds(8)) { try await client.put(key, [3]) }
        #expect(afterStop != nil)
        #expect(try await client.get(key)?.value == [3])
        #expect(client.currentEndpoint != inUse)
        await client.shutdown()
    }

    /// Calls `body` until it succeeds or `duration` passes; nil when it never succeeded.
    private func retrying<T: Sendable>(for duration: Duration, _ body: () async throws -> T) async throws -> T? {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            do {
                return try await body()
            } catch is EtcdError {
                // Expected while the cluster elects a leader or the client moves on.
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        return nil
    }
}
