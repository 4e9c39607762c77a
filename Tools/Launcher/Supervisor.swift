import Foundation
import RetainProcess
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// Starts the members in order, waits for each to be ready, keeps them running (restarting a
/// process that exits on its own, with exponential backoff from 1 s to 30 s, reset after a
/// minute of uptime), and on the first SIGTERM or SIGINT stops the gateway first, then the
/// services, then etcd (when the suite is replicated), each with SIGTERM and, after the stop
/// timeout, SIGKILL.
struct Supervisor: Sendable {
    let members: [SupervisedProcess]
    let readyTimeout: Duration
    let stopTimeout: Duration
    /// The local etcd of a replicated suite, started before the members (and already healthy);
    /// restarted like them when it exits, stopped after them.
    var etcd: EtcdProcess?

    /// Runs until a signal has stopped every member. `started` runs once all are up.
    func run(signals: UnixSignalsSequence, started: @escaping @Sendable () -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await signal in signals {
                    print("retain up: \(signal) received; stopping")
                    fflush(nil)
                    break
                }
            }
            group.addTask {
                // Start in order: the services, then the gateway that calls them.
                for member in members {
                    if Task.isCancelled { return }
                    try? member.launch()
                    if await !member.waitUntilReady(timeout: readyTimeout) {
                        print(
                            "retain up: warning: \(member.member.executable) is not ready after \(readyTimeout); see \(member.logFile.path)"
                        )
                    }
                }
                if Task.isCancelled { return }
                started()
                await withTaskGroup(of: Void.self) { supervision in
                    for member in members {
                        supervision.addTask { await supervise(member) }
                    }
                    if let etcd {
                        supervision.addTask { await supervise(etcd) }
                    }
                }
            }
            // The first task to end is the signal watcher (the supervision never ends by itself).
            _ = try await group.next()
            group.cancelAll()
            await stopAll()
        }
    }

    /// Restarts `member` each time it exits until it is being stopped.
    private func supervise(_ member: SupervisedProcess) async {
        var backoff: Duration = .seconds(1)
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let status = await member.waitForExit()
            // A Ctrl-C in a terminal reaches the children too (one process group): give the
            // signal watcher a moment to begin the stop before calling this exit a crash.
            try? await Task.sleep(for: .milliseconds(200))
            if Task.isCancelled || member.isStopping { return }
            if ContinuousClock.now - started > .seconds(60) { backoff = .seconds(1) }
            print("retain up: \(member.member.executable) exited with status \(status); restarting in \(backoff)")
            fflush(nil)
            try? await Task.sleep(for: backoff)
            if Task.isCancelled || member.isStopping { return }
            backoff = min(backoff * 2, .seconds(30))
            do {
                try member.launch()
                member.countRestart()
                if await member.waitUntilReady(timeout: readyTimeout) {
                    print("retain up: \(member.member.executable) restarted (pid \(member.pid.map(String.init) ?? "?"))")
                    fflush(nil)
                }
            } catch {
                print("retain up: cannot restart \(member.member.executable): \(error)")
                fflush(nil)
            }
        }
    }

    /// Restarts etcd each time it exits (checked every 500 ms), with the members' backoff.
    private func supervise(_ etcd: EtcdProcess) async {
        var backoff: Duration = .seconds(1)
        var started = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(500))
            guard !Task.isCancelled, !etcd.isRunning else { continue }
            if ContinuousClock.now - started > .seconds(60) { backoff = .seconds(1) }
            print("retain up: etcd exited; restarting in \(backoff) (log: \(etcd.logFile.path))")
            fflush(nil)
            try? await Task.sleep(for: backoff)
            if Task.isCancelled { return }
            backoff = min(backoff * 2, .seconds(30))
            do {
                try etcd.restart()
                started = ContinuousClock.now
                let deadline = ContinuousClock.now + readyTimeout
                while !etcd.isHealthy(), etcd.isRunning, ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(100))
                }
                print("retain up: etcd restarted (pid \(etcd.processIdentifier.map(String.init) ?? "?"))")
            } catch {
                print("retain up: cannot restart etcd: \(error)")
            }
            fflush(nil)
        }
    }

    /// Stops the gateway first (so no new calls reach the services), then the services together,
    /// then etcd (so the services can still give up their leases).
    private func stopAll() async {
        let gateway = members.filter { $0.member.name == "gateway" }
        let services = members.filter { $0.member.name != "gateway" }
        for group in [gateway, services] {
            await withTaskGroup(of: Void.self) { stopping in
                for member in group {
                    stopping.addTask {
                        let graceful = await member.stop(timeout: stopTimeout)
                        print("retain up: \(member.member.executable) \(graceful ? "stopped" : "killed after \(stopTimeout)")")
                        fflush(nil)
                    }
                }
            }
        }
        if let etcd {
            etcd.shutdown()
            print("retain up: etcd stopped")
        }
        print("retain up: all stopped")
        fflush(nil)
    }
}
