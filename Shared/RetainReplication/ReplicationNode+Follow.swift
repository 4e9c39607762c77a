import Foundation
import Logging
import RetainCluster
import RetainProto
import RetainRPC
import RetainState
import RetainWire
import Synchronization

extension ReplicationNode {
    /// Follows `leader` (once; a change of leader restarts it).
    func follow(_ leader: LeaderRecord) {
        let start = state.withLock { state -> Bool in
            if let current = state.following, current.leader == leader { return false }
            state.following?.task.cancel()
            state.leaderAddress = leader.address
            return true
        }
        guard start else { return }
        gate.change(to: .replica(leader: leader.address))
        onRoleChange(.replica(leader: leader.address))
        let task = Task { [self] in await followLoop(leader) }
        state.withLock { $0.following = Following(leader: leader, task: task) }
        logger.info(
            "replication: following",
            metadata: [
                "leader": "\(leader.member)", "address": "\(leader.address)",
                "epoch": "\(leader.epoch)",
            ])
    }

    /// Stops following (the leader's key is gone): this member's position is final for the election.
    func stopFollowing() {
        let following = state.withLock { state -> Following? in
            defer { state.following = nil }
            return state.following
        }
        guard let following else { return }
        following.task.cancel()
        if case .replica = gate.role {
            gate.change(to: .candidate)
            onRoleChange(.candidate)
        }
    }

    private func client(for address: String) -> RPCClient? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var configuration = RPCClient.Configuration()
        configuration.credentials = credentials
        configuration.tls = clientTLS
        configuration.maximumPayloadSize = 64 << 20
        // Batches and snapshot chunks run to 1 MiB: a window of several keeps the stream busy
        // while the replica applies what it has, and still bounds what the leader sends ahead.
        configuration.streamWindowBytes = 8 << 20
        return RPCClient(host: host, port: port, configuration: configuration, logger: logger)
    }

    private func followLoop(_ leader: LeaderRecord) async {
        guard let stream = client(for: leader.address), let acks = client(for: leader.address) else {
            logger.error("replication: bad leader address", metadata: ["address": "\(leader.address)"])
            return
        }
        defer {
            Task {
                await stream.close()
                await acks.close()
            }
        }
        let acknowledger = Acknowledger(
            member: configuration.member, epoch: UInt64(max(leader.epoch, 0)), client: acks, log: log, gate: gate,
            agreedThrough: { [weak self] in self?.state.withLock { $0.agreedThrough } ?? 0 }, fallback: ackSignal)
        state.withLock { $0.acknowledger = acknowledger }
        let acknowledging = Task { [self] in await acknowledgeLoop(acknowledger, client: acks, leader: leader) }
        defer {
            acknowledging.cancel()
            state.withLock { state in
                if state.acknowledger === acknowledger { state.acknowledger = nil }
            }
        }
        while !Task.isCancelled {
            do {
                try await receive(from: stream, leader: leader, acknowledger: acknowledger)
            } catch is CancellationError {
                return
            } catch let error as RPCError where error.code == .dataLoss {
                logger.warning("replication: the leader's log no longer holds what this replica needs; fetching its snapshot")
                do {
                    try await fetchSnapshot(from: stream)
                } catch {
                    logger.error("replication: fetching the leader's snapshot failed", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .milliseconds(500))
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("replication: following failed; retrying", metadata: ["leader": "\(leader.member)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Follows the leader's stream: the handshake on this task (it may cut the log), then every
    /// batch applied where it arrives, on the connection's event loop (``ReplicaInbox``).
    private func receive(from client: RPCClient, leader: LeaderRecord, acknowledger: Acknowledger) async throws {
        let (history, known) = state.withLock { ($0.history, $0.knownEpoch) }
        let request = Retain_V1_FollowRequest(
            member: configuration.member, epoch: known, lastSequence: log.lastSequence, history: history.message)
        state.withLock { $0.agreedThrough = 0 }
        let inbox = ReplicaInbox()
        let call = try await client.startServerStreaming(
            Retain_V1_Replication.follow, request, onAnswer: { inbox.received($0) }, onEnd: { inbox.ended($0) })
        inbox.attach(cancel: call.cancel)
        defer { call.cancel() }
        let epoch = UInt64(max(leader.epoch, 0))
        let handshake = try await inbox.next()
        guard handshake.first else {
            throw ReplicationError.protocolViolation("a batch of epoch \(handshake.epoch) before the handshake")
        }
        guard handshake.epoch == epoch else {
            throw ReplicationError.protocolViolation("the leader answered for epoch \(handshake.epoch), etcd names \(leader.epoch)")
        }
        if handshake.keepThrough < log.lastSequence {
            logger.warning(
                "replication: cutting a tail the shard never committed",
                metadata: [
                    "keepThrough": "\(handshake.keepThrough)", "last": "\(log.lastSequence)",
                ])
            let log = log
            let keep = handshake.keepThrough
            try await Self.offThread { try log.rebuild(keepingThrough: keep) }
        }
        let adopted = EpochHistory(message: handshake.history)
        try adopted.save(directory: configuration.dataDirectory)
        state.withLock {
            $0.history = adopted
            $0.agreedThrough = handshake.keepThrough
        }
        let apply: @Sendable (Retain_V1_ReplicationBatch) throws -> Void = { [self] batch in
            try self.apply(batch, epoch: epoch, acknowledger: acknowledger)
        }
        // What came while the handshake was done, then everything else where it arrives.
        while !inbox.goInline(apply: apply) {
            try apply(try await inbox.next())
        }
        try await inbox.waitForEnd()
    }

    /// Applies one batch of the leader's stream after the handshake: its records to the log and
    /// the state, then the commit point it carries; acknowledges what the durable tap could not.
    private func apply(_ batch: Retain_V1_ReplicationBatch, epoch: UInt64, acknowledger: Acknowledger) throws {
        guard !batch.first, batch.epoch == epoch else {
            throw ReplicationError.protocolViolation("a batch of epoch \(batch.epoch) after the handshake for \(epoch)")
        }
        if batch.count > 0 {
            let last = try log.applyReplicated(firstSequence: batch.firstSequence, frames: batch.frames)
            guard last == batch.firstSequence + UInt64(batch.count) - 1 else {
                throw ReplicationError.protocolViolation(
                    "a batch said \(batch.count) records, its frames held \(last + 1 - batch.firstSequence)")
            }
            let lagMs = max(0, Int64(Date().timeIntervalSince1970 * 1000) - batch.sentUnixMs)
            state.withLock {
                $0.lagMs = lagMs
                $0.leaderLastSeen = max($0.leaderLastSeen, last)
                $0.agreedThrough = last
            }
        }
        gate.advance(to: min(batch.commitSequence, log.lastSequence))
        // Holding all the leader had committed when it sent this: fresh as of then.
        if log.lastSequence >= batch.commitSequence { gate.markFresh(asOfMs: batch.sentUnixMs) }
        // What the durable tap could not acknowledge before the agreement reached it.
        acknowledger.acknowledgeNow()
    }

    /// Downloads the leader's newest snapshot and replaces this replica's data with it.
    private func fetchSnapshot(from client: RPCClient) async throws {
        guard let path = log.incomingSnapshotPath else { return }
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var written: UInt64 = 0
        var covered: UInt64 = 0
        var history: [Retain_V1_EpochStart]?
        do {
            defer { try? handle.close() }
            for try await chunk in client.serverStreaming(
                Retain_V1_Replication.fetchSnapshot, Retain_V1_FetchSnapshotRequest(member: configuration.member))
            {
                guard chunk.offset == written else {
                    throw ReplicationError.protocolViolation("snapshot chunk at \(chunk.offset), expected \(written)")
                }
                try handle.write(contentsOf: chunk.data)
                written += UInt64(chunk.data.count)
                covered = chunk.coveredSequence
                if chunk.last {
                    history = chunk.history
                    break
                }
            }
            try handle.synchronize()
        }
        guard let history else { throw ReplicationError.protocolViolation("the snapshot stream ended early") }
        let log = log
        let coveredSequence = covered
        try await Self.offThread { try log.installSnapshot(covering: coveredSequence) }
        let adopted = EpochHistory(message: history)
        try adopted.save(directory: configuration.dataDirectory)
        state.withLock { $0.history = adopted }
        logger.notice("replication: installed the leader's snapshot", metadata: ["covers": "\(covered)", "bytes": "\(written)"])
    }

    /// Sends the local durable point to the leader when the durable tap could not (no connection
    /// up, a call failed): woken by the acknowledger, else every 100 ms; connects and retries.
    private func acknowledgeLoop(_ acknowledger: Acknowledger, client: RPCClient, leader: LeaderRecord) async {
        while !Task.isCancelled {
            await ackSignal.wait(timeout: .milliseconds(100))
            acknowledger.acknowledgeNow()
            guard acknowledger.needsLoop else { continue }
            let durable = acknowledger.acknowledgeable
            do {
                let answer = try await client.unary(
                    Retain_V1_Replication.acknowledge,
                    Retain_V1_ReplicaAcknowledgement(
                        member: configuration.member, epoch: UInt64(max(leader.epoch, 0)), durableSequence: durable),
                    options: CallOptions(timeout: .seconds(2)))
                acknowledger.sentByLoop(durable)
                gate.advance(to: min(answer.commitSequence, log.lastSequence))
            } catch {
                if Task.isCancelled { return }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    static func offThread(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
