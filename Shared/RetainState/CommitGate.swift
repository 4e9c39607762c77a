import Synchronization

/// The commit point of a replicated store and the role its process plays in the shard.
///
/// A record is *committed* when it is durable on the shard's leader and on as many replicas as
/// the shard requires; only then may a caller see it or be told it happened. The replication
/// layer moves the commit point (``advance(to:)``) and the role; the ``StateStore`` releases
/// answers through it. Every change of role or rebuild of the state starts a new *generation*:
/// an answer read or written in an earlier one is never released (its record may have been cut
/// from the log and its sequence reused), it fails as "outcome unknown" instead.
public final class CommitGate: Sendable {
    /// What this process may do for callers.
    public enum Role: Sendable, Equatable, CustomStringConvertible {
        /// Leads the shard in `epoch`: takes writes.
        case leader(epoch: UInt64)
        /// Follows the leader at `leader` (an address, when known): refuses writes.
        case replica(leader: String?)
        /// Neither yet (starting, electing): refuses writes and reads.
        case candidate

        public var description: String {
            switch self {
            case .leader(let epoch): "leader (epoch \(epoch))"
            case .replica(let leader): "replica of \(leader ?? "an unknown leader")"
            case .candidate: "candidate"
            }
        }
    }

    private struct Waiter {
        let sequence: UInt64
        let callback: @Sendable (Result<Void, StateStoreError>) -> Void
    }

    private struct State {
        var role = Role.candidate
        var generation: UInt64 = 1
        var waiters: [Waiter] = []
        var handlers: [@Sendable (Role) -> Void] = []
    }

    private let state = Mutex(State())
    private let committed = Atomic<UInt64>(0)
    private let fresh = Atomic<Int64>(0)
    private let currentGeneration = Atomic<UInt64>(1)

    public init() {}

    /// Every record up to this sequence is committed (a lock-free load).
    public var committedSequence: UInt64 { committed.load(ordering: .acquiring) }

    /// The generation answers are released in now (a lock-free load).
    public var generation: UInt64 { currentGeneration.load(ordering: .acquiring) }

    /// The role now.
    public var role: Role { state.withLock { $0.role } }

    /// As of when (Unix ms, the leader's clock) this replica held everything its leader had
    /// committed; 0 when not known (no batch since the last change of role). A lock-free load.
    public var freshAsOfMs: Int64 { fresh.load(ordering: .acquiring) }

    /// Records that at `asOfMs` (the leader's clock) the leader had committed nothing this
    /// replica does not hold. Never moves back.
    public func markFresh(asOfMs: Int64) {
        var current = fresh.load(ordering: .relaxed)
        while asOfMs > current {
            let (exchanged, original) = fresh.compareExchange(expected: current, desired: asOfMs, ordering: .acquiringAndReleasing)
            if exchanged { return }
            current = original
        }
    }

    /// Moves the commit point forward (never back) and releases the answers it covers.
    public func advance(to sequence: UInt64) {
        var current = committed.load(ordering: .relaxed)
        while sequence > current {
            let (exchanged, original) = committed.compareExchange(
                expected: current, desired: sequence, ordering: .acquiringAndReleasing)
            if exchanged { break }
            current = original
        }
        guard sequence > current else { return }
        let ready = state.withLock { state -> [Waiter] in
            guard !state.waiters.isEmpty else { return [] }
            let committed = committed.load(ordering: .relaxed)
            var ready: [Waiter] = []
            state.waiters.removeAll { waiter in
                guard waiter.sequence <= committed else { return false }
                ready.append(waiter)
                return true
            }
            return ready
        }
        for waiter in ready { waiter.callback(.success(())) }
    }

    /// Calls back once `sequence` is committed, if the gate is still in `generation` then;
    /// fails at once (or later, when the generation ends) otherwise.
    public func whenCommitted(
        _ sequence: UInt64, generation: UInt64, _ callback: @escaping @Sendable (Result<Void, StateStoreError>) -> Void
    ) {
        let immediate = state.withLock { state -> Result<Void, StateStoreError>? in
            guard state.generation == generation else { return .failure(Self.ended(state.role)) }
            if sequence <= committed.load(ordering: .acquiring) { return .success(()) }
            state.waiters.append(Waiter(sequence: sequence, callback: callback))
            return nil
        }
        if let immediate { callback(immediate) }
    }

    /// Changes the role and starts a new generation: answers waiting in the old one fail, since
    /// what they read or wrote may not survive (a deposed leader's tail is cut when it rejoins).
    /// Returns the new generation.
    @discardableResult
    public func change(to role: Role) -> UInt64 {
        let (waiting, generation, handlers) = state.withLock { state -> ([Waiter], UInt64, [@Sendable (Role) -> Void]) in
            state.role = role
            fresh.store(0, ordering: .releasing)
            state.generation += 1
            currentGeneration.store(state.generation, ordering: .releasing)
            defer { state.waiters = [] }
            return (state.waiters, state.generation, state.handlers)
        }
        let error = Self.ended(role)
        for waiter in waiting { waiter.callback(.failure(error)) }
        for handler in handlers { handler(role) }
        return generation
    }

    /// Calls `handler` after every change of role (a service that must write something once it
    /// leads, such as settings fixed on first start, does it there).
    public func onRoleChange(_ handler: @escaping @Sendable (Role) -> Void) {
        state.withLock { $0.handlers.append(handler) }
    }

    /// The refusal for a write (or a leader read) while this process does not lead; nil when it does.
    public func writeRefusal() -> StateStoreError? {
        switch role {
        case .leader: nil
        case .replica(let leader): .notLeader(leader: leader)
        case .candidate: .notLeader(leader: nil)
        }
    }

    /// Blocks until `sequence` is committed in `generation`, or `timeout` passes; whether it was.
    public func waitCommitted(_ sequence: UInt64, generation: UInt64, timeout: Duration) -> Bool {
        let done = Mutex<Bool?>(nil)
        let condition = WaitSignal()
        whenCommitted(sequence, generation: generation) { result in
            done.withLock { $0 = (try? result.get()) != nil }
            condition.signal()
        }
        condition.wait(timeout: timeout)
        return done.withLock { $0 } ?? false
    }

    private static func ended(_ role: Role) -> StateStoreError {
        .unavailable(
            reason: "this process's role in the shard changed (now \(role)) before the change was committed; "
                + "its outcome is unknown", notProcessed: false)
    }
}

/// A one-shot signal a thread waits on with a timeout.
final class WaitSignal: Sendable {
    private let signalled = Mutex(false)
    private let semaphore = DispatchSemaphoreBox()

    func signal() {
        let first = signalled.withLock { done in
            defer { done = true }
            return !done
        }
        if first { semaphore.signal() }
    }

    func wait(timeout: Duration) {
        semaphore.wait(timeout: timeout)
    }
}
