import Foundation
public import Logging
import Metrics
public import ServiceLifecycle
import Dispatch
import Synchronization

/// Reloads credentials while the process runs: on SIGHUP (noticed within a second), and whenever
/// one of the watched files changes (checked every second by size, modification time and inode, so an atomic rename is
/// seen too). Each reload is logged and counted in `/metrics` as
/// `retain_credential_reloads_total{what,result}`; a file that does not load (missing, not
/// valid) is refused with an error in the log and the material in force stays.
public struct CredentialReloader: Service {
    /// One kind of material: the files it is read from, and how to read and apply them.
    public struct Source: Sendable {
        /// What it is, for logs and metrics: `service_secret`, `api_keys`, `tls`.
        public let name: String
        /// The files whose change triggers a reload.
        public let files: [String]
        /// Reads the files and puts the material in force; throws to keep the old one.
        public let reload: @Sendable () throws -> Void

        public init(name: String, files: [String], reload: @escaping @Sendable () throws -> Void) {
            self.name = name
            self.files = files
            self.reload = reload
        }
    }

    private let sources: [Source]
    private let logger: Logger
    private let interval: Duration
    /// The files' stamps when the material in force was read (the process makes the reloader
    /// right after reading it): a change made before ``run()`` starts is still seen.
    private let initialStamps: [[String]]

    public init(sources: [Source], logger: Logger, interval: Duration = .seconds(1)) {
        self.sources = sources
        self.logger = logger
        self.interval = interval
        initialStamps = sources.map { Self.stamp(of: $0.files) }
    }

    public func run() async throws {
        guard !sources.isEmpty else {
            // Nothing to watch: stay until shutdown (a service that returns ends its group).
            try? await gracefulShutdown()
            return
        }
        var stamps = initialStamps
        let hangup = HangupFlag()
        defer { hangup.cancel() }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let signalled = hangup.take()
            if signalled { logger.notice("SIGHUP: reloading credentials") }
            for (index, source) in sources.enumerated() {
                let stamp = Self.stamp(of: source.files)
                guard signalled || stamp != stamps[index] else { continue }
                stamps[index] = stamp
                apply(source, reason: signalled ? "SIGHUP" : "file changed")
            }
        }
    }

    private func apply(_ source: Source, reason: String) {
        do {
            try source.reload()
            Counter(label: "retain_credential_reloads_total", dimensions: [("what", source.name), ("result", "ok")]).increment()
            logger.notice("reloaded \(source.name)", metadata: ["reason": "\(reason)", "files": "\(source.files)"])
        } catch {
            Counter(label: "retain_credential_reloads_total", dimensions: [("what", source.name), ("result", "refused")]).increment()
            logger.error(
                "refused to reload \(source.name); the previous one stays in force",
                metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }

    /// Size, modification time and inode of each file (nil for a missing one).
    private static func stamp(of files: [String]) -> [String] {
        files.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return "missing" }
            return "\(info.st_size)/\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)/\(info.st_ino)"
        }
    }
}

/// Whether SIGHUP arrived since it was last taken (a dispatch signal source sets it). The source
/// is only resumed and cancelled, both thread-safe, hence `@unchecked Sendable`.
private final class HangupFlag: @unchecked Sendable {
    private let raised = Atomic<Bool>(false)
    private let source: any DispatchSourceSignal

    init() {
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { [weak self] in self?.raised.store(true, ordering: .relaxed) }
        source.resume()
    }

    /// True once per SIGHUP received.
    func take() -> Bool { raised.exchange(false, ordering: .relaxed) }

    func cancel() { source.cancel() }
}
