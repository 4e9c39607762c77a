public import Logging
import Synchronization

/// Grants a lease and keeps it alive every ttl/3; knows conservatively until when it is valid.
///
/// A shard leader holds its leadership key on a lease. It must stop acting as leader before
/// etcd can expire that lease and let another node take over, even when etcd is unreachable
/// and no answer will ever say so. `validUntil` is that instant, measured on this process's
/// monotonic clock from the *send* time of the last keep-alive etcd answered: etcd renewed the
/// lease no earlier than it received the request, so it cannot expire it before
/// `send time + TTL`. A safety margin covers clock-rate differences between the two machines.
///
/// Losing is final: once `onLost` has fired the keeper no longer renews the lease, and a holder
/// that wants to lead again starts a new keeper (with a new lease).
public final class EtcdLeaseKeeper: Sendable {
    private struct State {
        var leaseID: Int64 = 0
        var validUntil: ContinuousClock.Instant
        var lost = false
        var stopped = false
        var handlers: [@Sendable () -> Void] = []
        var tasks: [Task<Void, Never>] = []
    }

    private let client: EtcdClient
    private let ttlSeconds: Int
    private let logger: Logger
    private let state: Mutex<State>

    /// A keeper of a lease of `ttlSeconds` (at least 1) on `client`; nothing happens before `start()`.
    public init(client: EtcdClient, ttlSeconds: Int, logger: Logger) {
        self.client = client
        self.ttlSeconds = max(1, ttlSeconds)
        self.logger = logger
        self.state = Mutex(State(validUntil: .now))
    }

    /// The lease's id (0 before `start()`).
    public var leaseID: Int64 {
        state.withLock { $0.leaseID }
    }

    /// Monotonic deadline (ContinuousClock.Instant) = the SEND time of the last keep-alive that etcd answered with TTL > 0, plus that TTL, minus a safety margin (e.g. 10% or 500 ms). A holder must stop acting as owner at this instant even if etcd is unreachable — etcd can only expire the lease later than this.
    ///
    /// The margin is a tenth of the TTL, at least 500 ms and at most half the TTL.
    public var validUntil: ContinuousClock.Instant {
        state.withLock { $0.validUntil }
    }

    /// True while the lease is surely alive: started, not lost, not stopped, `validUntil` ahead.
    public var isValid: Bool {
        state.withLock { !$0.lost && !$0.stopped && $0.leaseID != 0 && ContinuousClock.now < $0.validUntil }
    }

    /// Grants the lease and starts keeping it alive; returns its id.
    public func start() async throws -> Int64 {
        let sent = ContinuousClock.now
        let id = try await client.grantLease(ttlSeconds: ttlSeconds)
        let started = state.withLock { state -> Bool in
            guard state.leaseID == 0, !state.stopped else { return false }
            state.leaseID = id
            // etcd may grant more than asked, never less: the asked TTL is the safe one.
            state.validUntil = sent + Self.validity(ttl: Int64(ttlSeconds))
            state.tasks = [
                Task { await self.keepAliveLoop(lease: id) },
                Task { await self.watchdog() },
            ]
            return true
        }
        guard started else {
            try? await client.revokeLease(id)
            throw EtcdError(.protocolError, "the lease keeper was already started or stopped")
        }
        logger.debug("etcd lease granted", metadata: ["lease": "\(id)", "ttl": "\(ttlSeconds)"])
        return id
    }

    /// Registers `handler`, called once when the lease is known lost (keepalive says TTL<=0, or
    /// validUntil passes); at once if it already is. Not called after `stop(revoke:)`.
    public func onLost(_ handler: @escaping @Sendable () -> Void) {
        let callNow = state.withLock { state -> Bool in
            if state.lost { return true }
            state.handlers.append(handler)
            return false
        }
        if callNow { handler() }
    }

    /// Stops keeping the lease alive; with `revoke`, also revokes it so its keys go at once.
    public func stop(revoke: Bool) async {
        let (tasks, lease) = state.withLock { state in
            state.stopped = true
            state.handlers = []
            defer { state.tasks = [] }
            return (state.tasks, state.leaseID)
        }
        tasks.forEach { $0.cancel() }
        if revoke, lease != 0 {
            do {
                try await client.revokeLease(lease)
            } catch {
                logger.debug("etcd lease revoke failed", metadata: ["lease": "\(lease)", "error": "\(error)"])
            }
        }
    }

    /// How long after a keep-alive was sent the lease is surely alive, given the TTL etcd answered.
    static func validity(ttl: Int64) -> Duration {
        let ttl = Duration.seconds(ttl)
        let margin = min(max(ttl / 10, .milliseconds(500)), ttl / 2)
        return ttl - margin
    }

    /// Renews the lease every ttl/3 until it is lost or the keeper stopped.
    private func keepAliveLoop(lease: Int64) async {
        let interval = Duration.seconds(ttlSeconds) / 3
        var next = ContinuousClock.now + interval
        while !Task.isCancelled {
            do {
                try await Task.sleep(until: next, clock: .continuous)
            } catch {
                return
            }
            let sent = ContinuousClock.now
            next = sent + interval
            do {
                let ttl = try await client.keepAliveOnce(lease: lease)
                guard ttl > 0 else {
                    lose("etcd says the lease is gone")
                    return
                }
                state.withLock { state in
                    guard !state.lost else { return }
                    state.validUntil = max(state.validUntil, sent + Self.validity(ttl: ttl))
                }
            } catch let error as EtcdError where error.isLeaseNotFound {
                lose("etcd says the lease is gone")
                return
            } catch {
                if Task.isCancelled { return }
                // Unreachable for now: keep trying; the watchdog decides when it is too late.
                logger.warning("etcd lease keep-alive failed", metadata: ["lease": "\(lease)", "error": "\(error)"])
            }
        }
    }

    /// Declares the lease lost when `validUntil` passes without a renewal moving it.
    private func watchdog() async {
        while true {
            let (deadline, done) = state.withLock { ($0.validUntil, $0.lost || $0.stopped) }
            if done { return }
            if ContinuousClock.now >= deadline {
                lose("no keep-alive answered in time")
                return
            }
            do {
                try await Task.sleep(until: deadline, clock: .continuous)
            } catch {
                return
            }
        }
    }

    /// Marks the lease lost once, stops renewing it and calls the handlers.
    private func lose(_ reason: String) {
        let (handlers, tasks, lease) = state.withLock { state -> ([@Sendable () -> Void], [Task<Void, Never>], Int64) in
            guard !state.lost, !state.stopped else { return ([], [], state.leaseID) }
            state.lost = true
            state.validUntil = min(state.validUntil, .now)
            defer {
                state.handlers = []
                state.tasks = []
            }
            return (state.handlers, state.tasks, state.leaseID)
        }
        guard !tasks.isEmpty || !handlers.isEmpty else { return }
        logger.warning("etcd lease lost", metadata: ["lease": "\(lease)", "reason": "\(reason)"])
        tasks.forEach { $0.cancel() }
        handlers.forEach { $0() }
    }
}
