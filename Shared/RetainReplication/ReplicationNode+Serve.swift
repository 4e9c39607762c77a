import Foundation
import RetainCluster
import Logging
public import RetainProto
public import RetainRPC
import RetainState
import RetainStorage
import RetainWire
import Synchronization

extension ReplicationNode {
    /// The Replication service's methods, to merge into the service's router.
    public var router: RPCRouter {
        var router = RPCRouter()
        router.serverStreaming(Retain_V1_Replication.follow) { [self] request, _, writer in
            try await follow(request, writer: writer)
        }
        router.unary(Retain_V1_Replication.acknowledge) { [self] request, _ in
            try acknowledge(request)
        }
        router.unary(Retain_V1_Replication.getReplicationStatus) { [self] _, _ in
            status()
        }
        router.serverStreaming(Retain_V1_Replication.fetchSnapshot) { [self] request, _, writer in
            try await sendSnapshot(request, writer: writer)
        }
        return router
    }

    private func notLeader() -> RPCError {
        var details = ["not_processed": "true", "not_leader": "true"]
        if let leader = state.withLock({ $0.leaderAddress }), leader != advertise { details["leader"] = leader }
        return RPCError(.unavailable, "this process does not lead shard \(configuration.shard)", details: details)
    }

    /// Feeds one replica: the handshake, then the log from where the replica's agrees with ours.
    func follow(_ request: Retain_V1_FollowRequest, writer: RPCStreamWriter<Retain_V1_ReplicationBatch>) async throws {
        guard let term = state.withLock({ $0.term }), term.isActive else { throw notLeader() }
        guard request.epoch <= term.epoch else {
            throw RPCError(
                .failedPrecondition,
                "replica \(request.member) has seen epoch \(request.epoch), this leader's is \(term.epoch)")
        }
        let leaderLast = log.lastSequence
        let keep = EpochHistory(message: request.history).agreement(
            last: request.lastSequence, leader: term.history, leaderLast: leaderLast)
        term.connect(request.member)
        defer { term.disconnect(request.member) }
        try await writer.send(
            Retain_V1_ReplicationBatch(
                epoch: term.epoch, commitSequence: term.commit, keepThrough: keep, history: term.history.message,
                sentUnixMs: Self.nowMs(), first: true))
        var next = keep + 1
        var cursor: LogCursor?
        var sentCommit = term.commit
        var lastSend = ContinuousClock.now
        let maximumBytes = 1 << 20
        // Once the replica has everything written, the committer's tap sends it each new batch
        // (LiveFeed); this loop then only sends the commit point, and takes over again when the
        // feed falls back.
        let feed = LiveFeed(member: request.member, term: term, limitBytes: configuration.liveFeedBytes) { batch in
            // In order: the committer's thread and this task hand batches over, and a batch
            // written at once on the stream's event loop would overtake one queued there before
            // (the replica would refuse the gap).
            try writer.writeInOrder(batch)
        }
        liveFeeds.add(feed)
        defer { liveFeeds.remove(feed) }
        // Commit intervals in a row in which the commit point did not move.
        var quietIntervals = 0
        var lastSeenCommit = term.commit
        while !Task.isCancelled {
            guard term.isActive else { throw notLeader() }
            let (live, liveNext, liveCommit) = feed.position
            if live {
                // The tap's batches carry the commit point as it was when each was sent; this
                // loop sends it only when it moved past that (the replicas' reads, and the last
                // writes before a quiet spell), looking every commit interval rather than at
                // every write: a task woken per group commit and replica was a thread hand-off
                // more on every round.
                let commit = term.commit
                if commit > max(sentCommit, liveCommit) || ContinuousClock.now - lastSend > Self.heartbeat {
                    try await writer.send(
                        Retain_V1_ReplicationBatch(epoch: term.epoch, commitSequence: commit, sentUnixMs: Self.nowMs()))
                    sentCommit = commit
                    lastSend = .now
                }
                quietIntervals = commit == lastSeenCommit ? quietIntervals + 1 : 0
                lastSeenCommit = commit
                if quietIntervals < Self.quietIntervalsBeforeWaiting {
                    try await Task.sleep(for: configuration.liveCommitInterval)
                } else {
                    // A quiet spell: no wake-up every interval (an idle leader's main cost), but
                    // a wait until the commit point moves (the term wakes this task), the feed
                    // falls back, or the next heartbeat is due.
                    let heartbeatDue = lastSend + Self.heartbeat - ContinuousClock.now
                    await term.waitForCommit(
                        after: commit, signal: feed.idle, timeout: max(heartbeatDue, configuration.liveCommitInterval))
                    try Task.checkCancellation()
                }
                continue
            }
            quietIntervals = 0
            if liveNext > next { next = liveNext }
            // Flow control: no more than a window of records beyond what the replica holds.
            if next > term.acknowledged(by: request.member) + configuration.maximumInFlightRecords {
                try await Task.sleep(for: .milliseconds(1))
                continue
            }
            var frames: RecordWindow.Frames
            switch window.frames(from: next, maximumBytes: maximumBytes) {
            case .frames(let fromWindow):
                frames = fromWindow
                cursor = nil
            case .older:
                if cursor == nil || cursor?.next != next {
                    guard let opened = try log.logCursor(after: next - 1) else {
                        throw RPCError(.dataLoss, "\(ReplicationError.logGone(after: next - 1))")
                    }
                    cursor = opened
                }
                let read = try cursor!.readFrames(through: window.lastSequence, maximumBytes: maximumBytes)
                frames = RecordWindow.Frames(first: next, bytes: read.frames, count: read.count)
            }
            let commit = term.commit
            if frames.count == 0 {
                let window = window
                if feed.goLive(next: next, windowLast: { window.lastSequence }) { continue }
                if commit != sentCommit || ContinuousClock.now - lastSend > Self.heartbeat {
                    try await writer.send(
                        Retain_V1_ReplicationBatch(
                            epoch: term.epoch, commitSequence: commit,
                            sentUnixMs: Self.nowMs()))
                    sentCommit = commit
                    lastSend = .now
                }
                await window.waitForRecord(after: next - 1, timeout: .milliseconds(20))
                continue
            }
            try await writer.send(
                Retain_V1_ReplicationBatch(
                    epoch: term.epoch, firstSequence: next, frames: frames.bytes, count: UInt32(frames.count),
                    commitSequence: commit, sentUnixMs: Self.nowMs()))
            next += UInt64(frames.count)
            sentCommit = commit
            lastSend = .now
        }
    }

    /// Sends the newest snapshot file in 1 MiB chunks. The file is opened first, so a newer
    /// snapshot replacing it meanwhile does not cut the transfer short.
    func sendSnapshot(_ request: Retain_V1_FetchSnapshotRequest, writer: RPCStreamWriter<Retain_V1_SnapshotChunk>) async throws {
        guard let term = state.withLock({ $0.term }), term.isActive else { throw notLeader() }
        guard let (path, covered) = try log.newestSnapshot() else {
            throw RPCError(.notFound, "the leader of shard \(configuration.shard) has no snapshot yet")
        }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let chunkSize = 1 << 20
        var offset: UInt64 = 0
        logger.info("replication: sending a snapshot", metadata: ["member": "\(request.member)", "covers": "\(covered)"])
        while !Task.isCancelled {
            let data = try handle.read(upToCount: chunkSize) ?? Data()
            let last = data.count < chunkSize
            try await writer.send(
                Retain_V1_SnapshotChunk(
                    coveredSequence: covered, data: [UInt8](data), offset: offset, last: last,
                    history: last ? term.history.message : []))
            offset += UInt64(data.count)
            if last { return }
        }
    }

    func acknowledge(_ request: Retain_V1_ReplicaAcknowledgement) throws -> Retain_V1_AcknowledgementResult {
        guard let term = state.withLock({ $0.term }), term.isActive else { throw notLeader() }
        guard request.epoch == term.epoch else {
            throw RPCError(.failedPrecondition, "acknowledgement for epoch \(request.epoch); this leader's is \(term.epoch)")
        }
        let commit = term.acknowledge(request.member, durable: request.durableSequence, leaderLast: log.lastSequence)
        return Retain_V1_AcknowledgementResult(commitSequence: commit)
    }

    func status() -> Retain_V1_ReplicationStatus {
        let record = memberRecordForStatus()
        let (term, leader) = state.withLock { ($0.term, $0.leaderAddress) }
        let replicas =
            term?.positions(leaderLast: log.lastSequence).map {
                Retain_V1_ReplicaPosition(
                    member: $0.member, durableSequence: $0.durable, synchronous: $0.synchronous,
                    lagRecords: $0.lagRecords, lagMs: $0.lagMs)
            } ?? []
        return Retain_V1_ReplicationStatus(
            shard: configuration.shard, member: configuration.member, role: record.role, epoch: UInt64(max(record.epoch, 0)),
            lastSequence: log.lastSequence, durableSequence: log.durableSequence,
            commitSequence: gate.committedSequence, leader: leader ?? "", replicas: replicas)
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// How often a replica hears from its leader when nothing changes (its reads' freshness).
    static let heartbeat = Duration.milliseconds(250)

    /// Commit intervals without a move after which a live feed's task stops looking every
    /// interval and waits for the commit point to move (20 x 5 ms: 100 ms of quiet).
    static let quietIntervalsBeforeWaiting = 20
}
