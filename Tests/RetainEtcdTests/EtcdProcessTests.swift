import Foundation
import RetainEtcd
import RetainProcess
import Testing

@Suite("EtcdProcess: a local etcd for tests and the launcher", .timeLimit(.minutes(1)))
struct EtcdProcessTests {
    @Test("a data directory given to EtcdProcess is kept, and a new etcd on it (on new ports) has the old keys")
    func keptDataDirectory() async throws {
        let directory = try makeTemporaryDirectory("retain-etcd-kept")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = {
            var configuration = fastEtcd
            configuration.dataDirectory = directory
            return configuration
        }()
        let first = try await offPool { try EtcdProcess(configuration: configuration) }
        let client = EtcdClient(endpoints: [first.endpoint], logger: testLogger)
        try await client.put("/kept", Array("yes".utf8))
        await client.shutdown()
        first.shutdown()
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("member").path))

        let second = try await offPool { try EtcdProcess(configuration: configuration) }
        defer { second.shutdown() }
        let again = EtcdClient(endpoints: [second.endpoint], logger: testLogger)
        #expect(try await again.get("/kept")?.value == Array("yes".utf8))
        await again.shutdown()
    }

    @Test("with a watch idle timeout, a quiet watch stays open on progress notifications and ends when etcd hangs")
    func watchIdleTimeout() async throws {
        let etcd = try await offPool { try EtcdProcess(configuration: fastEtcd) }
        defer { etcd.shutdown() }
        var configuration = EtcdClient.Configuration()
        configuration.requestTimeout = .milliseconds(500)
        configuration.watchIdleTimeout = .milliseconds(2500)
        let client = EtcdClient(endpoints: [etcd.endpoint], configuration: configuration, logger: testLogger)
        let prefix = uniquePrefix("idle")
        var events = client.watch(prefix: prefix).makeAsyncIterator()
        // Quiet for longer than the idle timeout: etcd's progress notifications (every 1 s) keep it open.
        try await Task.sleep(for: .seconds(3))
        let revision = try await client.put(prefix + "k", [1])
        #expect(try await events.next()?.revision == revision)

        etcd.suspend()
        defer { etcd.resume() }
        let hungAt = ContinuousClock.now
        await #expect(throws: EtcdError.self) { _ = try await events.next() }
        #expect(ContinuousClock.now - hungAt < .milliseconds(3500))
        await client.shutdown()
    }
}
