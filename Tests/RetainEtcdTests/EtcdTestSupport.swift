import Foundation
import Logging
import RetainEtcd
import RetainProcess

/// Test logger: warnings and worse, so failover and lease loss show in the output.
let testLogger: Logger = {
    var logger = Logger(label: "retain.etcd.test")
    logger.logLevel = .warning
    return logger
}()

/// etcd tuned for quick tests: 50 ms heartbeats and 500 ms elections (leases can then be as
/// short as 1 s, and a cluster elects a new leader within about a second).
let fastEtcd: EtcdProcess.Configuration = {
    var configuration = EtcdProcess.Configuration()
    configuration.heartbeatIntervalMilliseconds = 50
    configuration.electionTimeoutMilliseconds = 500
    return configuration
}()

/// Runs blocking process work off the cooperative pool (it has one thread per core here).
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// A fresh single-member etcd and a client of it, shut down after `body`.
func withEtcd<T: Sendable>(
    requestTimeout: Duration = .seconds(2),
    _ body: (EtcdProcess, EtcdClient) async throws -> T
) async throws -> T {
    let etcd = try await offPool { try EtcdProcess(configuration: fastEtcd) }
    let client = EtcdClient(endpoints: [etcd.endpoint], requestTimeout: requestTimeout, logger: testLogger)
    do {
        let result = try await body(etcd, client)
        await client.shutdown()
        etcd.shutdown()
        return result
    } catch {
        await client.shutdown()
        etcd.shutdown()
        throw error
    }
}

/// A key prefix of its own for each test.
func uniquePrefix(_ name: String) -> String {
    "/test/\(name)/\(UUID().uuidString.prefix(8))/"
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
func eventually(within timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// When the first delete arrives on `watch`, or nil when none came within `timeout`.
func firstDelete(
    on watch: AsyncThrowingStream<EtcdWatchEvent, any Error>,
    within timeout: Duration
) async throws -> ContinuousClock.Instant? {
    try await withThrowingTaskGroup(of: ContinuousClock.Instant?.self) { group in
        group.addTask {
            for try await event in watch where event.kind == .delete { return .now }
            return nil
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
