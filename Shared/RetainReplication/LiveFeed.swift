import RetainProto
import Synchronization

/// One replica's stream while it keeps up: the committer's tap writes each batch to it as soon
/// as the batch is written, on the committer's thread, instead of waking the follow task to read
/// it from the window and send it (two hand-offs between threads fewer on every commit round).
///
/// The follow task owns the stream otherwise: it catches the replica up (from the window or the
/// log) and hands the stream over once it has sent everything written (``goLive(next:windowLast:)``);
/// the feed falls back to it when a batch does not follow the last one sent, or when more than
/// `limitBytes` sent this way are not yet acknowledged by the replica (a slow replica is then fed
/// at its own pace by the task, which waits for its flow-control window). The task notices
/// within its commit interval (`ReplicationConfiguration.liveCommitInterval`), or at once when
/// it waits out a quiet spell (the feed signals ``idle`` as it falls back).
final class LiveFeed: Sendable {
    private struct State {
        /// The next sequence the replica is to be sent.
        var next: UInt64
        var live = false
        /// What was sent live and not yet acknowledged: each batch's last sequence and size.
        var unacknowledged: [(last: UInt64, bytes: Int)] = []
        var unacknowledgedBytes = 0
        /// The commit point the last batch sent live carried.
        var commitSent: UInt64 = 0
    }

    let member: String
    private let term: LeaderTerm
    /// Writes one batch on the replica's stream without waiting (the stream writer's `write`).
    private let send: @Sendable (Retain_V1_ReplicationBatch) throws -> Void
    private let limitBytes: Int
    private let state: Mutex<State>
    /// Wakes the follow task while it waits out a quiet spell: the commit point moved
    /// (``LeaderTerm``), or the feed fell back.
    let idle = AsyncSignal()

    init(
        member: String, term: LeaderTerm, limitBytes: Int,
        send: @escaping @Sendable (Retain_V1_ReplicationBatch) throws -> Void
    ) {
        self.member = member
        self.term = term
        self.send = send
        self.limitBytes = limitBytes
        self.state = Mutex(State(next: 0))
    }

    /// Whether the tap feeds the replica now, the next sequence it is to be sent, and the
    /// commit point its last batch carried.
    var position: (live: Bool, next: UInt64, commitSent: UInt64) { state.withLock { ($0.live, $0.next, $0.commitSent) } }

    /// Hands the stream to the tap when the follow task has sent everything written so far
    /// (`next` follows `windowLast`, read under this feed's lock so that no batch slips between).
    /// Returns whether it did.
    func goLive(next: UInt64, windowLast: () -> UInt64) -> Bool {
        state.withLock { state in
            guard next == windowLast() &+ 1 else { return false }
            state.next = next
            state.live = true
            state.unacknowledged.removeAll(keepingCapacity: true)
            state.unacknowledgedBytes = 0
            return true
        }
    }

    /// A batch the committer just wrote (frames for `first...last`): sent at once when the feed
    /// is live and the batch follows the last one sent; otherwise the feed falls back.
    func offer(first: UInt64, last: UInt64, frames: [UInt8]) {
        let fellBack = state.withLock { state -> Bool in
            guard state.live else { return false }
            guard term.isActive, first == state.next else {
                state.live = false
                return true
            }
            let acknowledged = term.acknowledged(by: member)
            var drop = 0
            while drop < state.unacknowledged.count, state.unacknowledged[drop].last <= acknowledged {
                state.unacknowledgedBytes -= state.unacknowledged[drop].bytes
                drop += 1
            }
            if drop > 0 { state.unacknowledged.removeFirst(drop) }
            guard state.unacknowledgedBytes + frames.count <= limitBytes else {
                state.live = false
                return true
            }
            // Written under the lock: the follow task's hand-over and this write stay in order.
            let commit = term.commit
            do {
                try send(
                    Retain_V1_ReplicationBatch(
                        epoch: term.epoch, firstSequence: first, frames: frames, count: UInt32(last - first + 1),
                        commitSequence: commit, sentUnixMs: ReplicationNode.nowMs()))
            } catch {
                state.live = false
                return true
            }
            state.next = last + 1
            state.commitSent = commit
            state.unacknowledged.append((last, frames.count))
            state.unacknowledgedBytes += frames.count
            return false
        }
        if fellBack { idle.signal() }
    }
}

/// The leader's live feeds, one per replica stream, that the committer's tap offers batches to.
final class LiveFeeds: Sendable {
    private let feeds = Mutex<[ObjectIdentifier: LiveFeed]>([:])

    func add(_ feed: LiveFeed) { feeds.withLock { $0[ObjectIdentifier(feed)] = feed } }

    func remove(_ feed: LiveFeed) { feeds.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(feed)) } }

    /// Offers a written batch to every feed (on the committer's thread).
    func offer(first: UInt64, last: UInt64, frames: [UInt8]) {
        let current = feeds.withLock { $0.isEmpty ? [] : Array($0.values) }
        for feed in current { feed.offer(first: first, last: last, frames: frames) }
    }
}
