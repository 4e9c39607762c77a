import Foundation
import RetainState
import Synchronization

/// One epoch of leadership: the replicas being fed, the synchronous set, and the commit point.
///
/// A record is committed once it is durable here and acknowledged by `required` members of the
/// synchronous set, and only while the leader's lease is valid: past its lease a leader
/// confirms nothing, since another process may already lead.
final class LeaderTerm: Sendable {
    struct Follower {
        var acknowledged: UInt64 = 0
        var connected = false
        var lastContact = ContinuousClock.now
        /// When it last acknowledged while behind (for lag in milliseconds).
        var behindSince: ContinuousClock.Instant?
    }

    struct State {
        var followers: [String: Follower] = [:]
        var sync: Set<String> = []
        var localDurable: UInt64 = 0
        var commit: UInt64 = 0
        var active = true
        /// Follow tasks waiting out a quiet spell, woken when the commit point moves.
        var idle: [AsyncSignal] = []
    }

    let epoch: UInt64
    let history: EpochHistory
    /// The log's last sequence when the term began.
    let startSequence: UInt64
    let required: Int
    let window: RecordWindow
    private let gate: CommitGate
    private let leaseValid: @Sendable () -> Bool
    private let state: Mutex<State>

    init(
        epoch: UInt64, history: EpochHistory, startSequence: UInt64, localDurable: UInt64, required: Int,
        window: RecordWindow, gate: CommitGate, leaseValid: @escaping @Sendable () -> Bool
    ) {
        self.epoch = epoch
        self.history = history
        self.startSequence = startSequence
        self.required = required
        self.window = window
        self.gate = gate
        self.leaseValid = leaseValid
        state = Mutex(State(localDurable: localDurable, commit: gate.committedSequence))
    }

    var isActive: Bool { state.withLock { $0.active } }
    var commit: UInt64 { state.withLock { $0.commit } }
    var syncMembers: Set<String> { state.withLock { $0.sync } }

    /// Ends the term: streams stop, nothing more is committed.
    func end() {
        let idle = state.withLock { state -> [AsyncSignal] in
            state.active = false
            defer { state.idle = [] }
            return state.idle
        }
        for signal in idle { signal.signal() }
    }

    /// Waits until the commit point moves past `point`, the term ends, `signal` is signalled
    /// otherwise, or `timeout` passes: a follow task's wait in a quiet spell, instead of
    /// looking every commit interval. Costs the commit path nothing while no task waits.
    func waitForCommit(after point: UInt64, signal: AsyncSignal, timeout: Duration) async {
        let moved = state.withLock { state -> Bool in
            guard state.active, state.commit <= point else { return true }
            state.idle.append(signal)
            return false
        }
        guard !moved else { return }
        await signal.wait(timeout: timeout)
        state.withLock { $0.idle.removeAll { $0 === signal } }
    }

    func connect(_ member: String) {
        state.withLock { state in
            state.followers[member, default: Follower()].connected = true
            state.followers[member]?.lastContact = .now
        }
    }

    func disconnect(_ member: String) {
        state.withLock { state in
            state.followers[member]?.connected = false
            state.followers[member]?.lastContact = .now
        }
    }

    func acknowledged(by member: String) -> UInt64 {
        state.withLock { $0.followers[member]?.acknowledged ?? 0 }
    }

    /// A replica's durable point; returns the commit point after it.
    @discardableResult
    func acknowledge(_ member: String, durable: UInt64, leaderLast: UInt64) -> UInt64 {
        let commit = state.withLock { state -> UInt64? in
            var follower = state.followers[member, default: Follower()]
            follower.acknowledged = max(follower.acknowledged, durable)
            follower.lastContact = .now
            if follower.acknowledged >= leaderLast {
                follower.behindSince = nil
            } else if follower.behindSince == nil {
                follower.behindSince = .now
            }
            state.followers[member] = follower
            return recompute(&state)
        }
        if let commit { gate.advance(to: commit) }
        return self.commit
    }

    /// The local log is durable through `sequence`.
    func localDurable(_ sequence: UInt64) {
        let commit = state.withLock { state -> UInt64? in
            state.localDurable = max(state.localDurable, sequence)
            return recompute(&state)
        }
        if let commit { gate.advance(to: commit) }
    }

    /// The new commit point when it moved (and the lease allows confirming it).
    private func recompute(_ state: inout State) -> UInt64? {
        guard state.active else { return nil }
        var point = state.localDurable
        if required > 0 {
            let acks = state.sync.map { state.followers[$0]?.acknowledged ?? 0 }.sorted(by: >)
            guard acks.count >= required else { return nil }
            point = min(point, acks[required - 1])
        }
        guard point > state.commit else { return nil }
        // Fencing: a leader whose lease may have lapsed confirms nothing.
        guard leaseValid() else { return nil }
        state.commit = point
        if !state.idle.isEmpty {
            for signal in state.idle { signal.signal() }
            state.idle = []
        }
        return point
    }

    /// A change to the synchronous set that is safe now, if one is due: add replicas that hold
    /// every committed record; drop ones out of contact for `grace` when the rest still holds
    /// every committed record on `required` members.
    func proposedSync(grace: Duration) -> Set<String>? {
        state.withLock { state in
            var proposed = state.sync
            for (member, follower) in state.followers where follower.connected && !proposed.contains(member) {
                if follower.acknowledged >= state.commit, follower.acknowledged >= startSequence { proposed.insert(member) }
            }
            for member in state.sync {
                let follower = state.followers[member]
                let gone = follower.map { !$0.connected && ContinuousClock.now - $0.lastContact > grace } ?? true
                guard gone else { continue }
                let rest = proposed.subtracting([member])
                let holding = rest.filter { (state.followers[$0]?.acknowledged ?? 0) >= state.commit }.count
                if holding >= max(required, 1) { proposed = rest }
            }
            return proposed == state.sync ? nil : proposed
        }
    }

    /// Uses `members` as the synchronous set (after etcd recorded it).
    func adoptSync(_ members: Set<String>) {
        let commit = state.withLock { state -> UInt64? in
            state.sync = members
            return recompute(&state)
        }
        if let commit { gate.advance(to: commit) }
    }

    /// Each replica's position, for status.
    func positions(leaderLast: UInt64) -> [(member: String, durable: UInt64, synchronous: Bool, lagRecords: UInt64, lagMs: Int64)] {
        state.withLock { state in
            state.followers.sorted { $0.key < $1.key }.map { member, follower in
                let lag = leaderLast > follower.acknowledged ? leaderLast - follower.acknowledged : 0
                let ms =
                    follower.behindSince.map {
                        Int64(
                            (ContinuousClock.now - $0).components.seconds * 1000
                                + (ContinuousClock.now - $0).components.attoseconds / 1_000_000_000_000_000)
                    } ?? 0
                return (member, follower.acknowledged, state.sync.contains(member), lag, lag == 0 ? 0 : ms)
            }
        }
    }
}
