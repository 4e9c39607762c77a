public import Foundation
import RetainLauncher
import RetainProcess
import Synchronization

/// A soak: the whole suite as real processes with authentication on, mixed load through the
/// gateway and straight to the services, faults on a schedule, then a check that every
/// acknowledged write is present exactly once, with each process's memory sampled throughout.
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
        let suiteConfiguration = Self.suiteConfiguration(binaries: configuration.binaries)
        progress("starting the suite under \(root.path)")
        let suite = try await offPool { try LocalSuite(root: root, configuration: suiteConfiguration) }
        let connections: SoakConnections
        do {
            connections = try SoakConnections(suite: suite)
        } catch {
            await offPool { _ = suite.stop() }
            throw error
        }
        let book = SoakBook()
        let workload = SoakWorkload(run: String(UInt32.random(in: 0...UInt32.max), radix: 36), book: book, connections: connections)
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
                    let fault = SoakFault.cycle[index % SoakFault.cycle.count]
                    let at = ContinuousClock.now
                    var failure: String?
                    switch fault {
                    case .kill(let member):
                        do { try await offPool { suite.kill(member); try suite.restart(member) } } catch { failure = "\(error)" }
                    case .terminate(let member):
                        do { try await offPool { suite.stop(member); try suite.restart(member) } } catch { failure = "\(error)" }
                    case .cutConnections:
                        await connections.cut()
                    }
                    let injected = SoakReport.InjectedFault(at: (at - started).seconds, description: fault.description,
                                                            recovery: (ContinuousClock.now - at).seconds, error: failure)
                    faults.entries.withLock { $0.append(injected) }
                    progress(String(format: "%6.1f s  %@", injected.at, fault.description))
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
        sampler.sample(suite)
        let unsettled = workload.unsettledCount
        progress("load done; sending \(unsettled) unanswered writes again, then verifying")
        let unresolved = await workload.settleRemaining()
        let verification = await SoakVerifier(workload: workload).verify(book.snapshot)
        let replays = book.replayResult
        await connections.close()
        let statuses = await offPool { suite.stop() }
        return SoakReport(
            seconds: seconds, calls: book.callCounts, faults: faults.entries.withLock { $0 }, unsettledAtEnd: unsettled,
            unresolved: unresolved, checked: verification.checked, lost: verification.lost,
            duplicated: verification.duplicated + replays.duplicated.map { "transfer \($0) applied again on re-send" },
            unreadable: verification.unreadable, confirmedReplays: replays.confirmed,
            memory: sampler.all.mapValues { ($0.start, $0.middle, $0.end, $0.peak, $0.samples.count) },
            restarts: Self.byName(suite.restarts), exitStatuses: Self.byName(statuses))
    }

    /// How the soak starts the suite: authentication on (a service secret, and an admin API key
    /// whose rate limit is far above the load), Growth on server time, and every process with
    /// its operations endpoints, as deployed.
    static func suiteConfiguration(binaries: URL) -> LocalSuite.Configuration {
        var configuration = LocalSuite.Configuration()
        configuration.binDirectory = binaries
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
    let entries = Mutex<[SoakReport.InjectedFault]>([])
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
