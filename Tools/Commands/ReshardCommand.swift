public import ArgumentParser
import Foundation
import Logging
import RetainCluster
import RetainEtcd
import RetainProto
import RetainRPC
import RetainWire

/// `retain cluster reshard`: grows a service's ring in etcd (Growth, Feedback or Profile) by one
/// or more shards while it serves, moving the users whose owner changes (docs/CLUSTER.md) in
/// groups: for each group, fence its users at their sources, copy and verify them by checksum,
/// write the group's ring (every gateway following etcd routes by it at once), drop them at
/// the sources; then pause as the pace asks, and go on with the next group. A group's users
/// wait only for their own group's copy. The plan and the step reached are kept in etcd
/// (`/retain/<cluster>/reshard/<service>`): run the same command again after a crash to go
/// on, with `--abort` to abandon the group in flight and keep the rings of the groups that
/// moved, or with `--rollback` to move every user of the shards being added back, in groups
/// too.
public struct ReshardCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reshard", abstract: "Add shards to a service's ring in etcd, moving their users while the service serves.",
        discussion: """
            Growth, Feedback and Profile shards move users (a Growth user's growth, a Feedback user's items with \
            their history, comments and FAQ membership, a Profile user's profile, activity, event keys, contacts, \
            assignments and campaign memberships); a shard that cannot move users is refused before anything is \
            recorded; the ledger is one writer and is never resharded. The users move in groups of about \
            --group-size, each fenced only while its own copy is made, at most --max-bytes-per-second of records. \
            Without --add, completes a ring whose shards hold only part of their points (a reshard abandoned \
            between groups); --rollback takes such shards off the ring instead, moving their users back. See \
            docs/CLUSTER.md.
            """)

    @Option(name: .customLong("etcd-endpoints"), help: "etcd members, http://HOST:PORT, comma-separated.")
    var etcdEndpoints: String = "http://127.0.0.1:2379"

    @Option(help: "The cluster's name in etcd.")
    var cluster: String = ClusterKeys.defaultCluster

    @Option(help: "The service whose users move: growth, feedback or profile (the ledger is one writer, never resharded).")
    var service: String = "growth"

    @Option(name: .customLong("add"), help: "A shard to add, ID=HOST:PORT (repeat for several).")
    var added: [String] = []

    @Flag(help: "Abandon the group in flight before its switch: lift its fences, keep the rings of the groups that moved.")
    var abort = false

    @Flag(
        help:
            "Take back an unfinished reshard: abandon the group in flight, then move the users of every shard holding part of its points back, in groups."
    )
    var rollback = false

    @Option(help: "Users per call.")
    var batch: Int = 1000

    @Option(help: "Users per group, about (each group's users are fenced only while the group is copied).")
    var groupSize: Int = 5000

    @Option(help: "Bytes of user records copied per second at most, averaged over each group (0: no limit).")
    var maxBytesPerSecond: Int = 8_000_000

    @Option(
        help: ArgumentHelp(
            "Wait a minute after recording this step, STEP or STEP:GROUP (tests kill the driver there).", visibility: .hidden))
    var pauseAfter: String?

    @OptionGroup var credential: AuthorizationOption

    public init() {}

    /// The services whose shards serve retain.v1.Resharding.
    static let services = ["growth", "feedback", "profile"]

    var serviceName: String { "retain.v1.\(service.prefix(1).uppercased())\(service.dropFirst())" }

    public func validate() throws {
        guard Self.services.contains(service) else {
            throw ValidationError(
                "--service \(service): expected one of \(Self.services.joined(separator: ", ")) (the ledger is one writer by design, never resharded)"
            )
        }
        guard batch > 0, batch <= 10_000 else { throw ValidationError("--batch must be 1 to 10000") }
        guard groupSize > 0 else { throw ValidationError("--group-size must be at least 1") }
        guard maxBytesPerSecond >= 0 else { throw ValidationError("--max-bytes-per-second must be 0 or more") }
        guard !(abort && rollback), !(rollback && !added.isEmpty), !(abort && !added.isEmpty) else {
            throw ValidationError("--add, --abort and --rollback go one at a time")
        }
        for add in added {
            let parts = add.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains(":") else {
                throw ValidationError("--add \(add): expected ID=HOST:PORT")
            }
        }
    }

    public func run() async throws {
        let endpoints = etcdEndpoints.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var logger = Logger(label: "retain.reshard")
        logger.logLevel = .critical
        let etcd = EtcdClient(endpoints: endpoints, requestTimeout: .seconds(5), logger: logger)
        defer { Task { await etcd.shutdown() } }
        let keys = ClusterKeys(cluster: cluster)
        let planKey = keys.reshard(service: serviceName)
        let tally = ReshardDriver.Tally()
        var plan: ReshardPlan
        var clients: [String: RPCClient]
        if let stored = try await etcd.get(planKey) {
            plan = try JSONDecoder().decode(ReshardPlan.self, from: Data(stored.value))
            clients = ReshardDriver.clients(plan.instances, credential: credential)
            if abort || rollback {
                let kept = try await abandon(plan, clients: clients, tally: tally, etcd: etcd, keys: keys, planKey: planKey)
                for client in clients.values { await client.close() }
                guard rollback else { return }
                guard kept.instances.contains(where: { $0.points != nil }) else {
                    print("nothing to roll back: every shard on ring v\(kept.version) holds all its points")
                    return
                }
                (plan, clients) = try await newPlan(etcd: etcd, keys: keys, tally: tally)
                try await save(plan, etcd: etcd, key: planKey)
            } else {
                print(
                    "resuming the reshard of \(serviceName) at group \(plan.currentGroup) of \(plan.groupCount), after step '\(plan.step.rawValue)'"
                )
            }
        } else {
            guard !abort else {
                print("no reshard of \(serviceName) in progress")
                return
            }
            (plan, clients) = try await newPlan(etcd: etcd, keys: keys, tally: tally)
            try await save(plan, etcd: etcd, key: planKey)
        }
        defer {
            let open = clients
            Task { for client in open.values { await client.close() } }
        }
        let started = ContinuousClock.now
        var longestPause = Duration.zero
        var moved = 0
        while true {
            let groupStart = ContinuousClock.now
            let bytesBefore = tally.copiedBytes
            let result = try await moveGroup(&plan, clients: clients, tally: tally, etcd: etcd, keys: keys, planKey: planKey)
            longestPause = max(longestPause, result.pause)
            moved += result.dropped
            print(
                "group \(plan.currentGroup)/\(plan.groupCount): \(result.dropped) users moved in \(Self.seconds(groupStart, .now)) s,"
                    + " fenced \(Self.seconds(.zero, result.pause)) s, ring v\(plan.ring(after: plan.currentGroup).version)")
            fflush(nil)
            guard plan.currentGroup < plan.groupCount else { break }
            plan.group = plan.currentGroup + 1
            plan.step = .started
            try await save(plan, etcd: etcd, key: planKey)
            if maxBytesPerSecond > 0 {
                let budget = Duration.seconds(Double(tally.copiedBytes - bytesBefore) / Double(maxBytesPerSecond))
                let spent = ContinuousClock.now - groupStart
                if budget > spent { try await Task.sleep(for: budget - spent) }
            }
        }
        try await etcd.delete(planKey)
        print(
            "reshard of \(serviceName) done in \(Self.seconds(started, .now)) s: \(moved) users moved in \(plan.groupCount) groups,"
                + " longest fence \(Self.seconds(.zero, longestPause)) s, ring v\(plan.to.version)")
        print(
            "this run: \(tally.calls) calls to the shards, \(tally.copiedUsers) user copies of \(tally.copiedBytes) record bytes")
    }

    /// Abandons the group in flight of `plan` and removes the plan: before its switch, lifts its
    /// fences at the sources and discards its copies at the new shards; after it, finishes the
    /// group (its ring is the one the gateways route by). Returns the ring kept.
    private func abandon(
        _ plan: ReshardPlan, clients: [String: RPCClient], tally: ReshardDriver.Tally, etcd: EtcdClient, keys: ClusterKeys,
        planKey: String
    ) async throws -> RingRecord {
        var plan = plan
        let kept: RingRecord
        if plan.step < .switched {
            let group = driver(plan, clients: clients, tally: tally)
            let moving = try await group.movingUsers()
            try await group.fence(moving, lift: true)
            try await group.discardCopies(moving)
            kept = plan.ring(after: plan.currentGroup - 1)
            print(
                "reshard of \(serviceName) abandoned at group \(plan.currentGroup) of \(plan.groupCount): its fences lifted, its copies discarded, ring v\(kept.version) kept"
                    + (plan.currentGroup > 1 && !rollback ? " (run without --add to complete it, or with --rollback to take it back)" : ""))
        } else {
            _ = try await moveGroup(&plan, clients: clients, tally: tally, etcd: etcd, keys: keys, planKey: planKey)
            kept = plan.ring(after: plan.currentGroup)
            print(
                "reshard of \(serviceName) stopped after group \(plan.currentGroup) of \(plan.groupCount) (its ring was switched already), ring v\(kept.version) kept"
            )
        }
        try await etcd.delete(planKey)
        return kept
    }

    /// A new plan from the ring in etcd (with `--rollback`, the plan taking its partial shards
    /// off): the shards to add are probed (each must serve retain.v1.Resharding before anything
    /// is recorded, so a refused start leaves nothing to abort), the moving users counted and
    /// split into groups.
    private func newPlan(
        etcd: EtcdClient, keys: ClusterKeys, tally: ReshardDriver.Tally
    ) async throws -> (ReshardPlan, [String: RPCClient]) {
        guard let stored = try await etcd.get(keys.ring(service: serviceName)), let from = RingRecord(json: Data(stored.value)) else {
            throw ReshardError("no ring of \(serviceName) in etcd at \(keys.ring(service: serviceName))")
        }
        var adding: [RingRecord.Instance] = []
        for add in added {
            let parts = add.split(separator: "=", maxSplits: 1).map(String.init)
            guard !from.instances.contains(where: { $0.id == parts[0] }), !adding.contains(where: { $0.id == parts[0] }) else {
                throw ValidationError("\(parts[0]) is on the ring already")
            }
            adding.append(.init(id: parts[0], address: parts[1]))
        }
        guard !adding.isEmpty || from.instances.contains(where: { $0.points != nil }) else {
            throw ValidationError(
                rollback
                    ? "nothing to roll back: every shard on ring v\(from.version) holds all its points"
                    : "--add names no shard to add (and every shard on the ring holds all its points)")
        }
        var plan = rollback ? ReshardPlan.rollingBack(from, groups: 1) : ReshardPlan.growing(from, adding: adding, groups: 1)
        let clients = ReshardDriver.clients(plan.instances, credential: credential)
        for instance in plan.instances {
            do {
                _ = try await clients[instance.id]!.unary(Retain_V1_Resharding.listShardUsers, .init(limit: 1))
            } catch {
                for client in clients.values { await client.close() }
                throw ReshardError(
                    "shard \(instance.id) (\(instance.address)) cannot move users of \(serviceName): \(error); nothing was started")
            }
        }
        let moving = try await driver(plan, clients: clients, tally: tally).movingCount()
        let changing = plan.pointChanges
        let groups = max(1, min((moving + groupSize - 1) / groupSize, changing.min() ?? 1))
        plan = plan.regrouped(groups)
        print(
            rollback
                ? "\(moving) users move back from \(changing.count) shard(s) leaving the ring in \(groups) group(s) of about \(moving / groups), ring v\(from.version) -> v\(plan.to.version)"
                : "\(moving) users move to \(changing.count) shard(s) gaining points (\(adding.count) new) in \(groups) group(s) of about \(moving / groups), ring v\(from.version) -> v\(plan.to.version)"
        )
        return (plan, clients)
    }

    private func driver(_ plan: ReshardPlan, clients: [String: RPCClient], tally: ReshardDriver.Tally) -> ReshardDriver {
        ReshardDriver(
            from: plan.ring(after: plan.currentGroup - 1), to: plan.ring(after: plan.currentGroup), batch: batch, clients: clients,
            tally: tally)
    }

    /// Moves the group in flight from the step it reached: fence, copy, verify, switch, drop.
    /// Returns the users dropped at the sources and how long the group's users were fenced
    /// in this run (fence to ring switch).
    private func moveGroup(
        _ plan: inout ReshardPlan, clients: [String: RPCClient], tally: ReshardDriver.Tally, etcd: EtcdClient, keys: ClusterKeys,
        planKey: String
    ) async throws -> (dropped: Int, pause: Duration) {
        let group = driver(plan, clients: clients, tally: tally)
        var fenced: ContinuousClock.Instant?
        var moving: [String: [String]] = [:]
        if plan.step < .switched {
            // Listed each time: users the sources created since are fenced too (fencing twice
            // changes nothing, so a resumed run fences again).
            moving = try await group.movingUsers()
            fenced = .now
            try await group.fence(moving, lift: false)
            if plan.step < .fenced {
                plan.step = .fenced
                try await save(plan, etcd: etcd, key: planKey)
            }
        }
        if plan.step < .verified {
            _ = try await group.copy(moving)
            let differing = try await group.copy(moving)
            guard differing == 0 else {
                throw ReshardError("\(differing) users still differ after the fence: nothing was switched; run again, or --abort")
            }
            plan.step = .verified
            try await save(plan, etcd: etcd, key: planKey)
        }
        if plan.step < .switched {
            try await switchRing(from: group.from, to: group.to, etcd: etcd, keys: keys)
            plan.step = .switched
            try await save(plan, etcd: etcd, key: planKey)
        }
        let pause = fenced.map { ContinuousClock.now - $0 } ?? .zero
        // Users a source created after its moving users were listed and before the gateways
        // switched are not fenced: fence, copy and verify them now (the gateways send their
        // calls to the new owner already, which refuses them until the copy is there).
        let stragglers = try await group.movingUsers(unfencedOnly: true)
        if stragglers.values.contains(where: { !$0.isEmpty }) {
            try await group.fence(stragglers, lift: false)
            let copied = try await group.copyAbsent(stragglers)
            print("\(copied) users created at the sources during group \(plan.currentGroup) fenced and copied")
        }
        // A resumed run lists what the sources still hold (after a crash here, what is left to
        // drop); dropping a user twice changes nothing.
        let leaving =
            fenced == nil
            ? try await group.movingUsers() : moving.merging(stragglers) { $0 + $1 }
        let dropped = try await group.drop(leaving)
        return (dropped, pause)
    }

    /// Writes ring `to` over ring `from` (an etcd transaction on the key's revision); a ring
    /// at `to`'s version already is left as it is (a resumed run).
    private func switchRing(from: RingRecord, to: RingRecord, etcd: EtcdClient, keys: ClusterKeys) async throws {
        let ringKey = keys.ring(service: serviceName)
        let stored = try await etcd.get(ringKey)
        let current = stored.flatMap { RingRecord(json: Data($0.value)) }
        guard current?.version != to.version else { return }
        guard let stored, current?.version == from.version,
            try await etcd.txn(
                EtcdTxn(
                    compare: [EtcdCompare(key: ringKey, target: .modRevision(stored.modRevision), result: .equal)],
                    success: [.put(key: ringKey, value: Array(to.json), lease: nil)])
            ).succeeded
        else {
            throw ReshardError("the ring of \(serviceName) changed meanwhile (v\(current?.version ?? 0)): nothing was switched")
        }
    }

    private func save(_ plan: ReshardPlan, etcd: EtcdClient, key: String) async throws {
        _ = try await etcd.put(key, Array(try JSONEncoder().encode(plan)))
        if let pauseAfter, [plan.step.rawValue, "\(plan.step.rawValue):\(plan.currentGroup)"].contains(pauseAfter) {
            fflush(nil)  // what was printed reaches a pipe before a test kills the driver here
            try await Task.sleep(for: .seconds(60))
        }
    }

    static func seconds(_ start: ContinuousClock.Instant, _ end: ContinuousClock.Instant) -> String {
        seconds(.zero, end - start)
    }

    static func seconds(_ zero: Duration, _ duration: Duration) -> String {
        String(format: "%.2f", Double((duration - zero) / .milliseconds(1)) / 1000)
    }
}
