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
/// within its commit interval (`ReplicationConfiguration.liveCommitInterval`).
///
/// At most `maximumBatches` batches sent live are unacknowledged at a time: the batches written
/// meanwhile wait in the feed and go as one when the replica acknowledges (``flush()``), so a
/// replica receives, syncs and acknowledges in rounds as large as its own round trip allows
/// instead of once per group commit of the leader (each round costs every process a few thread
/// hand-offs and system calls; on a busy machine they, not the disk, bound the rate).
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
        /// Frames written while `maximumBatches` were unacknowledged, from `next` through
        /// `pendingLast` (0: none).
        var pending: [UInt8] = []
        var pendingLast: UInt64 = 0
    }

    let member: String
    private let term: LeaderTerm
    /// Writes one batch on the replica's stream without waiting (the stream writer's `write`).
    private let send: @Sendable (Retain_V1_ReplicationBatch) throws -> Void
    private let limitBytes: Int
    private let maximumBatches: Int
    private let state: Mutex<State>

    init(
        member: String, term: LeaderTerm, limitBytes: Int, maximumBatches: Int,
        send: @escaping @Sendable (Retain_V1_ReplicationBatch) throws -> Void
    ) {
        self.member = member
        self.term = term
        self.send = send
        self.limitBytes = limitBytes
        self.maximumBatches = max(maximumBatches, 1)
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
            state.pending.removeAll(keepingCapacity: true)
            state.pendingLast = 0
            return true
        }
    }

    /// A batch the committer just wrote (frames for `first...last`): sent at once when the feed
    /// is live, the batch follows the last one sent or kept, and fewer than `maximumBatches` are
    /// unacknowledged; kept to go with the next acknowledgement when that many are; otherwise
    /// the feed falls back.
    func offer(first: UInt64, last: UInt64, frames: [UInt8]) {
        state.withLock { state in
            guard state.live else { return }
            let expected = state.pendingLast > 0 ? state.pendingLast + 1 : state.next
            guard term.isActive, first == expected else { return fallBack(&state) }
            dropAcknowledged(&state)
            guard state.unacknowledgedBytes + state.pending.count + frames.count <= limitBytes else {
                return fallBack(&state)
            }
            if state.unacknowledged.count >= maximumBatches {
                state.pending.append(contentsOf: frames)
                state.pendingLast = last
                return
            }
            if state.pending.isEmpty {
                sendLive(&state, frames: frames, last: last)
            } else {
                state.pending.append(contentsOf: frames)
                state.pendingLast = last
                sendPending(&state)
            }
        }
    }

    /// Sends the frames kept while the replica had `maximumBatches` unacknowledged, once it has
    /// acknowledged one of them (called when an acknowledgement arrives, and by the follow
    /// task's commit interval).
    func flush() {
        state.withLock { state in
            guard state.live, !state.pending.isEmpty else { return }
            guard term.isActive else { return fallBack(&state) }
            dropAcknowledged(&state)
            if state.unacknowledged.count < maximumBatches { sendPending(&state) }
        }
    }

    private func dropAcknowledged(_ state: inout State) {
        let acknowledged = term.acknowledged(by: member)
        var drop = 0
        while drop < state.unacknowledged.count, state.unacknowledged[drop].last <= acknowledged {
            state.unacknowledgedBytes -= state.unacknowledged[drop].bytes
            drop += 1
        }
        if drop > 0 { state.unacknowledged.removeFirst(drop) }
    }

    /// The follow task takes over from `next` (what was kept is read again from the window).
    private func fallBack(_ state: inout State) {
        state.live = false
        state.pending.removeAll(keepingCapacity: false)
        state.pendingLast = 0
    }

    private func sendPending(_ state: inout State) {
        let frames = state.pending
        let last = state.pendingLast
        state.pending.removeAll(keepingCapacity: true)
        state.pendingLast = 0
        sendLive(&state, frames: frames, last: last)
    }

    /// Writes frames for `state.next...last` on the stream (under the lock: the follow task's
    /// hand-over and this write stay in order).
    private func sendLive(_ state: inout State, frames: [UInt8], last: UInt64) {
        let first = state.next
        let commit = term.commit
        do {
            try send(
                Retain_V1_ReplicationBatch(
                    epoch: term.epoch, firstSequence: first, frames: frames, count: UInt32(last - first + 1),
                    commitSequence: commit, sentUnixMs: ReplicationNode.nowMs()))
        } catch {
            return fallBack(&state)
        }
        state.next = last + 1
        state.commitSent = commit
        state.unacknowledged.append((last, frames.count))
        state.unacknowledgedBytes += frames.count
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

    /// Sends what `member`'s feed kept, now that the replica acknowledged.
    func flush(member: String) {
        let current = feeds.withLock { $0.values.filter { $0.member == member } }
        for feed in current { feed.flush() }
    }
}
