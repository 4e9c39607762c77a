public import Foundation
import RetainLauncher
import RetainProcess
import Synchronization

/// A soak: the whole suite as real processes with authentication on, mixed load through the
/// gateway and straight to the services, faults on a schedule, then a check that every
/// acknowledged write is present exactly once, with each process's memory sampled throughout.
///
/// With ``Configuration/replicas`` the suite is replicated (a local etcd, a shard of that many
/// members per service, the gateway following the leaders), every call goes through the
/// gateway, and the faults hit each shard's current leader (SIGKILL; SIGSTOP past its lease,
/// then SIGCONT) and its replicas (SIGKILL), with connection cuts between
/// (``SoakFault/replicatedCycle``).
public struct SoakRun: Sendable {
    /// How long, how hard, and how often things break.
    public struct Configuration: Sendable {
        /// Length of the load. Default 180 s.
        public var duration: Duration = .seconds(180)
        /// Operations in flight at once. Default 8.
        public var concurrency: Int = 8
        /// Time between faults; the first comes one interval in, the last at least half an
        /// interval before the end. Default 20 s.
        public var faultInterval: Duration = .seconds(20)
        /// Time between memory samples. Default 1 s.
        public var sampleInterval: Duration = .seconds(1)
        /// The directory holding the `retain-*` executables. Default: next to this one.
        public var binaries: URL = ServerProcess.buildDirectory
        /// Where the data directories go; nil makes a temporary one, removed afterwards.
        /// Default nil.
        public var dataDirectory: URL?
        /// Members per service's shard, with a local etcd; nil (the default) runs one process
        /// per service.
        public var replicas: Int?
        /// The leader's lease in a replicated suite, in seconds; a paused leader stays stopped
        /// twice as long. Default 2 (the services' default).
        public var leaseTTL: Int = 2

        public init() {}
    }

    public let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Runs the soak and returns its report; throws only when the suite cannot start.
    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> SoakReport {
        let root = try configuration.dataDirectory ?? makeTemporaryDirectory("retain-soak")
        defer { if configuration.dataDirectory == nil { try? FileManager.default.removeItem(at: root) } }
        let suiteConfiguration = Self.suiteConfiguration(
            binaries: configuration.binaries, replicas: configuration.replicas,
            leaseTTL: configuration.leaseTTL)
        progress(
            "starting the suite under \(root.path)" + (configuration.replicas.map { " (\($0) members per shard, a local etcd)" } ?? ""))
        let suite = try await offPool { try LocalSuite(root: root, configuration: suiteConfiguration) }
        let connections: SoakConnections
        do {
            if configuration.replicas != nil {
                for service in LocalSuite.Service.allCases {
                    let leader = try await suite.waitForLeader(of: service, timeout: .seconds(60))
                    progress("\(service.rawValue): \(leader) leads")
                }
            }
            connections = try SoakConnections(suite: suite)
        } catch {
            await offPool { _ = suite.stop() }
            throw error
        }
        let book = SoakBook()
        let workload = SoakWorkload(
            run: String(UInt32.random(in: 0...UInt32.max), radix: 36), book: book, connections: connections,
            gatewayOnly: configuration.replicas != nil)
        do {
            try await workload.prepare()
        } catch {
            await connections.close()
            await offPool { _ = suite.stop() }
            throw error
        }
        let sampler = MemorySampler()
        sampler.sample(suite)
        let stop = StopFlag()
        let faults = FaultLog()
        let cycle = configuration.replicas == nil ? SoakFault.cycle : SoakFault.replicatedCycle
        let started = ContinuousClock.now
        let end = started + configuration.duration
        let configuration = configuration
        progress("load for \(configuration.duration), \(configuration.concurrency) in flight, a fault every \(configuration.faultInterval)")

        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<configuration.concurrency {
                group.addTask { await workload.work(worker: worker) { stop.isSet } }
            }
            group.addTask {
                while !stop.isSet {
                    sampler.sample(suite)
                    try? await Task.sleep(for: configuration.sampleInterval)
                }
            }
            group.addTask {
                var next = started + configuration.faultInterval
                var index = 0
                while next + configuration.faultInterval / 2 <= end {
                    try? await Task.sleep(until: next)
                    let fault = cycle[index % cycle.count]
                    let injected = await Self.inject(
                        fault, suite: suite, connections: connections, book: book,
                        pause: .seconds(2 * configuration.leaseTTL))
                    faults.entries.withLock { $0.append(injected) }
                    progress(String(format: "%6.1f s  %@", (injected.at - started).seconds, injected.description))
                    index += 1
                    next += configuration.faultInterval
                }
            }
            group.addTask {
                try? await Task.sleep(until: end)
                stop.set()
            }
        }
        let seconds = (ContinuousClock.now - started).seconds
        let injected = faults.entries.withLock { $0 }.map { fault in
            SoakReport.InjectedFault(
                at: (fault.at - started).seconds, description: fault.description, recovery: fault.recovery.seconds,
                failover: book.failover(fault.watch)?.seconds, tookLeader: fault.tookLeader, error: fault.error)
        }
        sampler.sample(suite)
        let unsettled = workload.unsettledCount
        progress("load done; sending \(unsettled) unanswered writes again, then verifying")
        let unresolved = await workload.settleRemaining()
        let verification = await SoakVerifier(workload: workload).verify(book.snapshot)
        let replays = book.replayResult
        await connections.close()
        let statuses = await offPool { suite.stop() }
        return SoakReport(
            replicas: configuration.replicas, members: suite.members.map(\.name),
            seconds: seconds, calls: book.callCounts, faults: injected, unsettledAtEnd: unsettled,
            unresolved: unresolved, checked: verification.checked, lost: verification.lost,
            duplicated: verification.duplicated + replays.duplicated.map { "transfer \($0) applied again on re-send" },
            unreadable: verification.unreadable, confirmedReplays: replays.confirmed,
            memory: sampler.all.mapValues { ($0.start, $0.middle, $0.end, $0.peak, $0.samples.count) },
            restarts: Self.byName(suite.restarts), exitStatuses: Self.byName(statuses))
    }

    /// How the soak starts the suite: authentication on (a service secret, and an admin API key
    /// whose rate limit is far above the load), Growth on server time, and every process with
    /// its operations endpoints, as deployed.
    static func suiteConfiguration(binaries: URL, replicas: Int? = nil, leaseTTL: Int = 2) -> LocalSuite.Configuration {
        var configuration = LocalSuite.Configuration()
        configuration.binDirectory = binaries
        configuration.replicas = replicas
        configuration.leaseTTL = replicas == nil ? nil : leaseTTL
        configuration.growthClientTimes = false
        configuration.healthIntervalMs = 250
        configuration.opsEndpoints = true
        return configuration
    }

    /// `values` keyed by member name (`ledger`, `gateway`), as the report shows them.
    private static func byName<Value>(_ values: [LocalSuite.Member: Value]) -> [String: Value] {
        Dictionary(uniqueKeysWithValues: values.map { ($0.key.name, $0.value) })
    }
}

/// The faults injected so far.
private final class FaultLog: Sendable {
    /// One fault as injected; its failover time is read from the book at the end.
    struct Entry: Sendable {
        let at: ContinuousClock.Instant
        let description: String
        let recovery: Duration
        let watch: Int
        let tookLeader: Bool
        let error: String?
    }

    let entries = Mutex<[Entry]>([])
}

extension SoakRun {
    /// Injects `fault` and times it: the member it hits is named in the description, and the
    /// book watches for the first write answered OK after it.
    fileprivate static func inject(
        _ fault: SoakFault, suite: LocalSuite, connections: SoakConnections, book: SoakBook,
        pause: Duration
    ) async -> FaultLog.Entry {
        var description = fault.description
        var failure: String?
        var at = ContinuousClock.now
        var watch: Int?
        /// Marks the instant of the fault (after any look-up of whom it hits).
        func mark() {
            at = ContinuousClock.now
            watch = book.watchFailover(of: fault.service?.rawValue, from: at)
        }
        do {
            switch fault {
            case .kill(let member):
                mark()
                try await offPool {
                    suite.kill(member)
                    try suite.restart(member)
                }
            case .terminate(let member):
                mark()
                try await offPool {
                    suite.stop(member)
                    try suite.restart(member)
                }
            case .cutConnections:
                mark()
                await connections.cut()
            case .killLeader(let service):
                let leader = try await suite.waitForLeader(of: service)
                description = "SIGKILL \(service.rawValue) leader \(leader) + restart"
                mark()
                try await offPool {
                    suite.kill(leader)
                    try suite.restart(leader)
                }
            case .pauseLeader(let service):
                let leader = try await suite.waitForLeader(of: service)
                description = "SIGSTOP \(service.rawValue) leader \(leader) \(pause), SIGCONT"
                mark()
                await offPool { suite.suspend(leader) }
                try? await Task.sleep(for: pause)
                await offPool { suite.resume(leader) }
            case .killReplica(let service):
                let leader = try await suite.waitForLeader(of: service)
                let replica = suite.members(of: service).filter { $0 != leader }.randomElement() ?? leader
                description = "SIGKILL \(service.rawValue) replica \(replica) + restart"
                mark()
                try await offPool {
                    suite.kill(replica)
                    try suite.restart(replica)
                }
            }
        } catch {
            failure = "\(error)"
        }
        if watch == nil { mark() }
        let tookLeader =
            switch fault {
            case .killLeader, .pauseLeader: true
            default: false
            }
        return FaultLog.Entry(
            at: at, description: description, recovery: ContinuousClock.now - at, watch: watch ?? 0,
            tookLeader: tookLeader, error: failure)
    }
}

/// Tells the tasks of a run to stop.
private final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
