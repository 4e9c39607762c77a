import Foundation
public import Logging
public import RetainEtcd
public import RetainProto
import RetainCluster
public import RetainRPC
public import RetainState
public import RetainStorage
public import ServiceLifecycle
import Synchronization

/// One process's part in its shard: it stands for leader through etcd, leads (feeds replicas,
/// commits on a quorum, fences itself when its lease may have lapsed) or follows (applies the
/// leader's records, acknowledges them, cuts a tail the shard never committed).
///
/// Runs as a service until graceful shutdown; the RPC layer serves ``follow(_:writer:)``,
/// ``acknowledge(_:)`` and ``status()`` (see ``router``).
public final class ReplicationNode: Service, Sendable {
    let configuration: ReplicationConfiguration
    let log: any ReplicatedLog
    let gate: CommitGate
    let etcd: EtcdClient
    let keys: ShardKeys
    let logger: Logger
    let credentials: (any CallCredentials)?
    let clientTLS: ClientTLS?
    let window: RecordWindow
    let onRoleChange: @Sendable (CommitGate.Role) -> Void
    /// Wakes the replica's acknowledge loop when an acknowledgement could not be sent at once.
    let ackSignal = AsyncSignal()
    /// The replica streams the committer's tap writes to directly while they keep up.
    let liveFeeds = LiveFeeds()

    struct Following {
        var leader: LeaderRecord
        var task: Task<Void, Never>
    }

    struct State {
        var history: EpochHistory
        var term: LeaderTerm?
        /// The lease the leader key is held with while leading.
        var keeper: EtcdLeaseKeeper?
        var following: Following?
        /// The highest epoch seen (from etcd or a leader): a leader of a lower one is refused.
        var knownEpoch: UInt64 = 0
        var leaderAddress: String?
        var lagMs: Int64 = 0
        var leaderLastSeen: UInt64 = 0
        /// The last sequence this replica knows it holds as its current leader does: what it may
        /// acknowledge (never records from before the handshake that the leader may not share).
        var agreedThrough: UInt64 = 0
        /// Sends this replica's durable points to the leader it follows (from the durable tap).
        var acknowledger: Acknowledger?
        var lastPublished: MemberRecord?
        var lastPublishAt = ContinuousClock.now - .seconds(60)
    }

    let state: Mutex<State>
    private let advertised: Mutex<String>

    /// Where the shard's other processes reach this one (`host:port`).
    public var advertise: String { advertised.withLock { $0 } }

    /// Sets the address once the listener's port is known (when it was 0).
    public func setAdvertise(_ address: String) { advertised.withLock { $0 = address } }

    public init(
        configuration: ReplicationConfiguration, log: any ReplicatedLog, credentials: (any CallCredentials)?,
        clientTLS: ClientTLS? = nil, logger: Logger,
        onRoleChange: @escaping @Sendable (CommitGate.Role) -> Void = { _ in }
    ) throws {
        guard let gate = log.commitGate else {
            throw ReplicationError.protocolViolation("the store was not opened for replication")
        }
        self.configuration = configuration
        self.log = log
        self.gate = gate
        self.etcd = EtcdClient(endpoints: configuration.etcdEndpoints, requestTimeout: .seconds(1), logger: logger)
        self.keys = ShardKeys(cluster: configuration.cluster, shard: configuration.shard)
        self.logger = logger
        self.credentials = credentials
        self.clientTLS = clientTLS
        self.window = RecordWindow(capacity: configuration.windowBytes)
        self.onRoleChange = onRoleChange
        self.advertised = Mutex(configuration.advertise)
        let history = try EpochHistory.load(directory: configuration.dataDirectory)
        state = Mutex(State(history: history, knownEpoch: history.latestEpoch))
        let (window, liveFeeds) = (window, liveFeeds)
        log.setReplicationTaps(
            ReplicationTaps(
                written: { first, last, frames in
                    guard case .leader = gate.role else { return }
                    // One copy of the batch, shared by the window and every live feed's message.
                    let bytes = [UInt8](frames)
                    window.append(first: first, last: last, frames: bytes)
                    liveFeeds.offer(first: first, last: last, frames: bytes)
                },
                durable: { [weak self] sequence in
                    self?.localDurable(sequence)
                }))
    }

    // MARK: The loop

    public func run() async throws {
        logger.info(
            "replication: joining shard",
            metadata: [
                "shard": "\(configuration.shard)", "member": "\(configuration.member)",
                "etcd": "\(configuration.etcdEndpoints.joined(separator: ","))",
            ])
        var keeper: EtcdLeaseKeeper?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if keeper == nil || keeper?.isValid == false {
                    if keeper != nil { await leaseLost() }
                    let fresh = EtcdLeaseKeeper(client: etcd, ttlSeconds: configuration.leaseTTLSeconds, logger: logger)
                    _ = try await fresh.start()
                    fresh.onLost { [weak self] in
                        Task { await self?.leaseLost() }
                    }
                    keeper = fresh
                    state.withLock { $0.keeper = fresh }
                }
                try await tick(keeper: keeper!)
            } catch {
                logger.debug("replication: etcd step failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        await stepDown(reason: "shutting down", revoke: true)
        await keeper?.stop(revoke: true)
        await etcd.shutdown()
    }

    /// One round: publish this member's position, follow the leader or stand for election.
    private func tick(keeper: EtcdLeaseKeeper) async throws {
        let leaderValue = try await etcd.get(keys.leader)
        let leader = leaderValue.flatMap { LeaderRecord(json: Data($0.value)) }
        if let leader { state.withLock { $0.knownEpoch = max($0.knownEpoch, UInt64(max(leader.epoch, 0))) } }
        let leading = state.withLock { $0.term }
        switch (leader, leading) {
        case (let leader?, let term?) where leader.member == configuration.member && UInt64(max(leader.epoch, 0)) == term.epoch:
            try await maintainSync(term: term, keeper: keeper)
        case (let leader?, _) where leader.member != configuration.member:
            if leading != nil { await stepDown(reason: "another member leads (epoch \(leader.epoch))", revoke: false) }
            follow(leader)
        case (let leader?, nil) where leader.member == configuration.member && leaderValue?.lease == keeper.leaseID:
            // Our own transaction won though its answer was lost (a timeout): lead that epoch.
            try lead(epoch: UInt64(max(leader.epoch, 0)), keeper: keeper)
        case (_, let term?):
            // Our leader key is gone (or another epoch is recorded for us): stop confirming.
            await stepDown(reason: "the leader key of epoch \(term.epoch) is gone", revoke: false)
        default:
            stopFollowing()
            try await publish(keeper: keeper, force: true)
            try await stand(keeper: keeper)
        }
        try await publish(keeper: keeper, force: false)
    }

    // MARK: Publishing

    func memberRecordForStatus() -> MemberRecord { memberRecord() }

    private func memberRecord() -> MemberRecord {
        let (history, following, term, lagMs, knownEpoch, leaderLast) = state.withLock {
            ($0.history, $0.following?.leader, $0.term, $0.lagMs, $0.knownEpoch, $0.leaderLastSeen)
        }
        let last = log.lastSequence
        let role: String = term != nil ? "leader" : (following != nil ? "replica" : "candidate")
        let epoch = term?.epoch ?? following.map { UInt64(max($0.epoch, 0)) } ?? knownEpoch
        return MemberRecord(
            member: configuration.member, address: advertise, service: configuration.service,
            role: role, epoch: Int64(epoch), lastSequence: Int64(last), durableSequence: Int64(log.durableSequence),
            committedSequence: Int64(gate.committedSequence), lagRecords: Int64(leaderLast > last ? leaderLast - last : 0),
            lagMs: lagMs, pid: Int64(getpid()), dataDir: configuration.dataDirectory,
            updatedUnixMs: Int64(Date().timeIntervalSince1970 * 1000),
            lastEpoch: Int64(history.epoch(at: last)), following: following?.member ?? "")
    }

    private func publish(keeper: EtcdLeaseKeeper, force: Bool) async throws {
        let record = memberRecord()
        let due = state.withLock { state -> Bool in
            force || ContinuousClock.now - state.lastPublishAt > .milliseconds(500)
                || state.lastPublished?.role != record.role || state.lastPublished?.following != record.following
        }
        guard due else { return }
        try await etcd.put(keys.member(configuration.member), [UInt8](record.json), lease: keeper.leaseID)
        state.withLock {
            $0.lastPublished = record
            $0.lastPublishAt = .now
        }
    }

    // MARK: Election

    /// Stands for leader when this member may and its position is the best among those that
    /// must be heard (see docs/REPLICATION.md, "Who may lead").
    private func stand(keeper: EtcdLeaseKeeper) async throws {
        let me = memberRecord()
        let syncValue = try await etcd.get(keys.sync)
        let sync = syncValue.flatMap { SyncRecord(json: Data($0.value)) }
        let (members, _) = try await etcd.range(prefix: keys.membersPrefix)
        let records = members.compactMap { MemberRecord(json: Data($0.value)) }
        let settled = records.filter(\.settled)
        if let sync, sync.leader != configuration.member {
            guard sync.members.contains(configuration.member) else { return }
            let needed = sync.required == 0 ? 1 : sync.members.count - sync.required + 1
            let heard = settled.filter { sync.members.contains($0.member) }
            guard heard.count >= needed else { return }
            guard heard.allSatisfy({ $0.member == me.member || me.isAhead(of: $0) }) else { return }
        } else if let sync {
            // The leader the set was written by holds everything it acknowledged, unless its disk
            // was replaced: it stands only with the history of the epoch it led, and only when no
            // member of the set it heard from is ahead of it.
            guard Int64(state.withLock({ $0.history.latestEpoch })) >= sync.epoch else { return }
            let heard = settled.filter { sync.members.contains($0.member) }
            guard heard.allSatisfy({ me.isAhead(of: $0) }) else { return }
        } else if sync == nil {
            guard settled.allSatisfy({ $0.member == me.member || me.isAhead(of: $0) }) else { return }
        }
        // Eligible and ahead: take the leader key and the next epoch in one transaction.
        let epochValue = try await etcd.get(keys.epoch)
        let previous = epochValue.flatMap { EpochValue.parse(Data($0.value)) }.map { UInt64(max($0, 0)) } ?? 0
        let epoch = max(previous, state.withLock { $0.knownEpoch }) + 1
        let leader = LeaderRecord(
            member: configuration.member, address: advertise, epoch: Int64(epoch),
            service: configuration.service, pid: Int64(getpid()))
        let newSync = SyncRecord(leader: configuration.member, epoch: Int64(epoch), members: [], required: configuration.syncReplicas)
        let result = try await etcd.txn(
            EtcdTxn(
                compare: [
                    EtcdCompare(key: keys.leader, target: .version(0), result: .equal),
                    EtcdCompare(key: keys.epoch, target: .modRevision(epochValue?.modRevision ?? 0), result: .equal),
                ],
                success: [
                    .put(key: keys.leader, value: [UInt8](leader.json), lease: keeper.leaseID),
                    .put(key: keys.epoch, value: [UInt8](EpochValue.encode(Int64(epoch))), lease: nil),
                    .put(key: keys.sync, value: [UInt8](newSync.json), lease: nil),
                ]))
        guard result.succeeded else { return }
        try lead(epoch: epoch, keeper: keeper)
    }

    /// Becomes the leader of `epoch`: records where the epoch starts, then takes writes.
    private func lead(epoch: UInt64, keeper: EtcdLeaseKeeper) throws {
        stopFollowing()
        let last = log.lastSequence
        var history = state.withLock { $0.history }
        history.begin(epoch: epoch, firstSequence: last + 1)
        try history.save(directory: configuration.dataDirectory)
        window.reset(after: last)
        let term = LeaderTerm(
            epoch: epoch, history: history, startSequence: last, localDurable: log.durableSequence,
            required: configuration.syncReplicas, window: window, gate: gate,
            leaseValid: { keeper.isValid })
        state.withLock { state in
            state.history = history
            state.term = term
            state.knownEpoch = epoch
            state.leaderAddress = advertise
        }
        let role = CommitGate.Role.leader(epoch: epoch)
        gate.change(to: role)
        term.localDurable(log.durableSequence)
        logger.notice(
            "replication: leading the shard",
            metadata: [
                "shard": "\(configuration.shard)", "epoch": "\(epoch)", "lastSequence": "\(last)",
            ])
        onRoleChange(role)
    }

    /// Keeps the synchronous set in etcd in step with the replicas that hold every committed
    /// record; the leader counts a set only once etcd has it.
    private func maintainSync(term: LeaderTerm, keeper: EtcdLeaseKeeper) async throws {
        guard let proposed = term.proposedSync(grace: .seconds(Int64(configuration.leaseTTLSeconds) * 2)) else { return }
        let record = SyncRecord(
            leader: configuration.member, epoch: Int64(term.epoch), members: proposed.sorted(),
            required: configuration.syncReplicas)
        let leader = LeaderRecord(
            member: configuration.member, address: advertise, epoch: Int64(term.epoch),
            service: configuration.service, pid: Int64(getpid()))
        let result = try await etcd.txn(
            EtcdTxn(
                compare: [EtcdCompare(key: keys.leader, target: .value([UInt8](leader.json)), result: .equal)],
                success: [.put(key: keys.sync, value: [UInt8](record.json), lease: nil)]))
        guard result.succeeded else { return }
        term.adoptSync(proposed)
        logger.info("replication: synchronous set", metadata: ["members": "\(record.members)", "epoch": "\(term.epoch)"])
    }

    /// Stops leading: nothing more is confirmed, waiting answers fail as "outcome unknown".
    func stepDown(reason: String, revoke: Bool) async {
        let (term, keeper) = state.withLock { state -> (LeaderTerm?, EtcdLeaseKeeper?) in
            defer { state.term = nil }
            return (state.term, state.keeper)
        }
        guard let term else { return }
        term.end()
        gate.change(to: .candidate)
        onRoleChange(.candidate)
        logger.warning("replication: stepped down", metadata: ["epoch": "\(term.epoch)", "reason": "\(reason)"])
        if revoke {
            try? await etcd.delete(keys.leader)
            await keeper?.stop(revoke: true)
        }
    }

    private func leaseLost() async {
        await stepDown(reason: "the lease may have lapsed", revoke: false)
    }

    func localDurable(_ sequence: UInt64) {
        let (term, acknowledger) = state.withLock { ($0.term, $0.acknowledger) }
        if let term {
            term.localDurable(sequence)
        } else if let acknowledger {
            // On the committer's thread: the acknowledgement leaves from here.
            acknowledger.acknowledgeNow()
        } else {
            ackSignal.signal()
        }
    }
}
