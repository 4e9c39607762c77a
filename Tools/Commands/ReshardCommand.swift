public import ArgumentParser
import Foundation
import Logging
import RetainCluster
import RetainEtcd
import RetainProto
import RetainRPC
import RetainWire

/// `retain cluster reshard`: grows a service's ring in etcd (Growth, Feedback or Profile) by one
/// or more shards while it serves,
/// moving the users whose owner changes (docs/CLUSTER.md): copy, catch up by checksum,
/// fence at the source, final copy and verify, write the new ring (every gateway following etcd
/// routes by it at once), drop at the source. The step reached is kept in etcd
/// (`/retain/<cluster>/reshard/<service>`): run the same command again after a crash to go on,
/// or with `--abort` before the switch to lift the fences and leave the ring as it was.
public struct ReshardCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reshard", abstract: "Add shards to a service's ring in etcd, moving their users while the service serves.",
        discussion: """
            Growth, Feedback and Profile shards move users (a Growth user's growth, a Feedback user's items with \
            their history, comments and FAQ membership, a Profile user's profile, activity, event keys, contacts, \
            assignments and campaign memberships); a shard that cannot move users is refused before anything is \
            recorded; the ledger is one writer and is never resharded. See docs/CLUSTER.md.
            """)

    @Option(name: .customLong("etcd-endpoints"), help: "etcd members, http://HOST:PORT, comma-separated.")
    var etcdEndpoints: String = "http://127.0.0.1:2379"

    @Option(help: "The cluster's name in etcd.")
    var cluster: String = ClusterKeys.defaultCluster

    @Option(help: "The service whose users move: growth, feedback or profile (the ledger is one writer, never resharded).")
    var service: String = "growth"

    @Option(name: .customLong("add"), help: "A shard to add, ID=HOST:PORT (repeat for several).")
    var added: [String] = []

    @Flag(help: "Abandon an unfinished reshard before its switch: lift the fences, keep the old ring.")
    var abort = false

    @Option(help: "Users per call.")
    var batch: Int = 500

    @Option(help: ArgumentHelp("Wait a minute after recording this step (tests kill the driver there).", visibility: .hidden))
    var pauseAfter: String?

    @OptionGroup var credential: AuthorizationOption

    public init() {}

    /// The steps, each recorded in etcd once done.
    enum Step: String, Codable, Comparable {
        case started, copied, fenced, verified, switched

        static func < (lhs: Step, rhs: Step) -> Bool { order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)! }
        static let order: [Step] = [.started, .copied, .fenced, .verified, .switched]
    }

    /// What the driver keeps in etcd between runs.
    struct Plan: Codable {
        var from: RingRecord
        var to: RingRecord
        var step: Step
    }

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
        var plan: Plan
        if let stored = try await etcd.get(planKey) {
            plan = try JSONDecoder().decode(Plan.self, from: Data(stored.value))
            print("resuming the reshard of \(serviceName) after step '\(plan.step.rawValue)'")
        } else {
            guard !abort else {
                print("no reshard of \(serviceName) in progress")
                return
            }
            guard let stored = try await etcd.get(keys.ring(service: serviceName)), let from = RingRecord(json: Data(stored.value)) else {
                throw ReshardError("no ring of \(serviceName) in etcd at \(keys.ring(service: serviceName))")
            }
            guard !added.isEmpty else { throw ValidationError("--add names no shard to add") }
            var to = from
            to.version += 1
            for add in added {
                let parts = add.split(separator: "=", maxSplits: 1).map(String.init)
                guard !from.instances.contains(where: { $0.id == parts[0] }) else {
                    throw ValidationError("\(parts[0]) is on the ring already")
                }
                to.instances.append(.init(id: parts[0], address: parts[1]))
            }
            plan = Plan(from: from, to: to, step: .started)
            // Every shard must serve retain.v1.Resharding before anything is recorded, so a
            // refused start leaves nothing to abort.
            let probe = Driver(plan: plan, credential: credential, batch: 1)
            defer { Task { await probe.close() } }
            for instance in to.instances {
                do {
                    _ = try await probe.call(instance.id, Retain_V1_Resharding.listShardUsers, .init(limit: 1))
                } catch {
                    throw ReshardError(
                        "shard \(instance.id) (\(instance.address)) cannot move users of \(serviceName): \(error); nothing was started")
                }
            }
            try await save(plan, etcd: etcd, key: planKey)
        }
        let driver = Driver(plan: plan, credential: credential, batch: batch)
        defer { Task { await driver.close() } }
        if abort {
            guard plan.step < .switched else {
                throw ReshardError("the ring was switched already: run without --abort to finish")
            }
            let moving = try await driver.movingUsers()
            try await driver.fence(moving, lift: true)
            try await etcd.delete(planKey)
            print("reshard of \(serviceName) abandoned: fences lifted, ring v\(plan.from.version) kept")
            return
        }
        let started = ContinuousClock.now
        var moving = try await driver.movingUsers()
        print(
            "\(moving.values.map(\.count).reduce(0, +)) users move to \(plan.to.instances.count - plan.from.instances.count) new shard(s)")
        if plan.step < .copied {
            let first = try await driver.copy(moving)
            let again = try await driver.copy(moving)
            print(
                "copied \(first) users, caught up \(again) (\(driver.tally.copiedBytes) record bytes in \(driver.tally.calls) calls so far)"
            )
            plan.step = .copied
            try await save(plan, etcd: etcd, key: planKey)
        }
        if plan.step < .switched {
            // Listed again: users the sources created since the first listing are fenced too
            // (fencing twice changes nothing, so a resumed run fences again).
            moving = try await driver.movingUsers()
            let fenceStart = ContinuousClock.now
            try await driver.fence(moving, lift: false)
            if plan.step < .fenced {
                plan.step = .fenced
                try await save(plan, etcd: etcd, key: planKey)
            }
            print("fenced at the sources in \(Self.seconds(since: fenceStart)) s")
        }
        if plan.step < .verified {
            let final = try await driver.copy(moving)
            let differing = try await driver.copy(moving)
            guard differing == 0 else {
                throw ReshardError("\(differing) users still differ after the fence: nothing was switched; run again, or --abort")
            }
            plan.step = .verified
            try await save(plan, etcd: etcd, key: planKey)
            print("final copy of \(final) users; every moved user's checksum verified")
        }
        if plan.step < .switched {
            let ringKey = keys.ring(service: serviceName)
            let stored = try await etcd.get(ringKey)
            let current = stored.flatMap { RingRecord(json: Data($0.value)) }
            if current?.version != plan.to.version {
                // Written only over the ring this reshard started from.
                guard let stored, current?.version == plan.from.version,
                    try await etcd.txn(
                        EtcdTxn(
                            compare: [EtcdCompare(key: ringKey, target: .modRevision(stored.modRevision), result: .equal)],
                            success: [.put(key: ringKey, value: Array(plan.to.json), lease: nil)])
                    ).succeeded
                else {
                    throw ReshardError("the ring of \(serviceName) changed meanwhile (v\(current?.version ?? 0)): nothing was switched")
                }
            }
            plan.step = .switched
            try await save(plan, etcd: etcd, key: planKey)
            print("ring v\(plan.to.version) written: the gateways route the moved users to their new shards")
        }
        // Users a source created after its moving users were listed and before the gateways
        // switched are not fenced: fence, copy and verify them now (the gateways send their
        // calls to the new owner already, which refuses them until the copy is there).
        let stragglers = try await driver.movingUsers(unfencedOnly: true)
        if stragglers.values.contains(where: { !$0.isEmpty }) {
            try await driver.fence(stragglers, lift: false)
            let copied = try await driver.copyAbsent(stragglers)
            print("\(copied) users created at the sources during the move fenced and copied")
        }
        // The sources list only what they still hold: after a crash here, what is left to drop.
        moving = try await driver.movingUsers()
        let dropped = try await driver.drop(moving)
        try await etcd.delete(planKey)
        print("dropped \(dropped) users at the sources; reshard of \(serviceName) done in \(Self.seconds(since: started)) s")
        print(
            "this run: \(driver.tally.calls) calls to the shards, \(driver.tally.copiedUsers) user copies of \(driver.tally.copiedBytes) record bytes"
        )
    }

    private func save(_ plan: Plan, etcd: EtcdClient, key: String) async throws {
        _ = try await etcd.put(key, Array(try JSONEncoder().encode(plan)))
        if plan.step.rawValue == pauseAfter {
            fflush(nil)  // what was printed reaches a pipe before a test kills the driver here
            try await Task.sleep(for: .seconds(60))
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> String {
        String(format: "%.2f", Double((ContinuousClock.now - start) / .milliseconds(1)) / 1000)
    }

    /// The calls to the shards.
    struct Driver {
        let plan: Plan
        let batch: Int
        let clients: [String: RPCClient]
        let newRing: HashRing
        /// What this run sent: calls to the shards and bytes of user records copied.
        let tally = Tally()

        /// Counts calls and copied bytes (the cost of a reshard, printed at the end).
        final class Tally: @unchecked Sendable {
            var calls = 0
            var copiedBytes = 0
            var copiedUsers = 0
        }

        /// One call to a shard, counted.
        func call<Request, Response>(_ shard: String, _ method: RPCMethod<Request, Response>, _ request: Request) async throws -> Response {
            tally.calls += 1
            return try await clients[shard]!.unary(method, request)
        }

        init(plan: Plan, credential: AuthorizationOption, batch: Int) {
            self.plan = plan
            self.batch = batch
            var clients: [String: RPCClient] = [:]
            for instance in plan.to.instances {
                let parts = instance.address.split(separator: ":")
                clients[instance.id] = RPCClient(
                    host: String(parts.dropLast().joined(separator: ":")), port: Int(parts.last ?? "") ?? 0,
                    configuration: credential.clientConfiguration)
            }
            self.clients = clients
            newRing = HashRing(instanceIDs: plan.to.instances.map(\.id))
        }

        func close() async {
            for client in clients.values { await client.close() }
        }

        /// The users each source holds that the new ring gives to another shard, by source.
        /// `unfencedOnly`: only those not fenced there yet.
        func movingUsers(unfencedOnly: Bool = false) async throws -> [String: [String]] {
            var moving: [String: [String]] = [:]
            for source in plan.from.instances {
                var after = ""
                repeat {
                    let page = try await call(
                        source.id, Retain_V1_Resharding.listShardUsers,
                        .init(afterUserId: after, limit: UInt32(batch), unfencedOnly: unfencedOnly))
                    moving[source.id, default: []] += page.userIds.filter { owner($0) != source.id }
                    after = page.nextAfterUserId
                } while !after.isEmpty
            }
            return moving
        }

        func owner(_ user: String) -> String { plan.to.instances[newRing.owner(of: user) ?? 0].id }

        /// Copies the users whose checksum differs on their new shard; returns how many.
        func copy(_ moving: [String: [String]]) async throws -> Int {
            var copied = 0
            for (source, users) in moving {
                for start in stride(from: 0, to: users.count, by: batch) {
                    let page = Array(users[start..<min(start + batch, users.count)])
                    let ours = try await call(source, Retain_V1_Resharding.exportUsers, .init(userIds: page)).users
                    for (target, group) in Dictionary(grouping: ours, by: { owner($0.userId) }) {
                        let theirs = try await call(
                            target, Retain_V1_Resharding.exportUsers, .init(userIds: group.map(\.userId))
                        ).users
                        let known = Dictionary(uniqueKeysWithValues: theirs.map { ($0.userId, $0.checksum) })
                        let differing = group.filter { known[$0.userId] != $0.checksum }
                        guard !differing.isEmpty else { continue }
                        tally.copiedUsers += differing.count
                        tally.copiedBytes += differing.map(\.record.count).reduce(0, +)
                        _ = try await call(
                            target, Retain_V1_Resharding.importUsers, .init(users: differing, ringVersion: UInt64(plan.to.version)))
                        copied += differing.count
                    }
                }
            }
            return copied
        }

        /// Copies users their new shard does not hold (created at a source during the move,
        /// fenced there since); one it holds already with other state was written on both
        /// shards: stops, naming it, rather than replace what the new shard was written since.
        func copyAbsent(_ moving: [String: [String]]) async throws -> Int {
            var copied = 0
            for (source, users) in moving {
                for start in stride(from: 0, to: users.count, by: batch) {
                    let page = Array(users[start..<min(start + batch, users.count)])
                    let ours = try await call(source, Retain_V1_Resharding.exportUsers, .init(userIds: page)).users
                    for (target, group) in Dictionary(grouping: ours, by: { owner($0.userId) }) {
                        let theirs = try await call(
                            target, Retain_V1_Resharding.exportUsers, .init(userIds: group.map(\.userId))
                        ).users
                        let known = Dictionary(uniqueKeysWithValues: theirs.map { ($0.userId, $0.checksum) })
                        if let both = group.first(where: { user in known[user.userId].map { $0 != user.checksum } ?? false }) {
                            throw ReshardError(
                                "user '\(both.userId)' was written at \(source) and at \(target) during the move: not copied, not dropped")
                        }
                        let absent = group.filter { known[$0.userId] == nil }
                        guard !absent.isEmpty else { continue }
                        tally.copiedUsers += absent.count
                        tally.copiedBytes += absent.map(\.record.count).reduce(0, +)
                        _ = try await call(
                            target, Retain_V1_Resharding.importUsers, .init(users: absent, ringVersion: UInt64(plan.to.version)))
                        copied += absent.count
                    }
                }
            }
            return copied
        }

        func fence(_ moving: [String: [String]], lift: Bool) async throws {
            for (source, users) in moving {
                for start in stride(from: 0, to: users.count, by: batch) {
                    _ = try await call(
                        source, Retain_V1_Resharding.fenceUsers,
                        .init(
                            userIds: Array(users[start..<min(start + batch, users.count)]), lift: lift,
                            ringVersion: UInt64(plan.to.version)))
                }
            }
        }

        func drop(_ moving: [String: [String]]) async throws -> Int {
            var dropped = 0
            for (source, users) in moving {
                for start in stride(from: 0, to: users.count, by: batch) {
                    dropped += Int(
                        try await call(
                            source, Retain_V1_Resharding.dropUsers, .init(userIds: Array(users[start..<min(start + batch, users.count)]))
                        ).dropped)
                }
            }
            return dropped
        }
    }
}

/// Why a reshard stopped; it can be run again (or abandoned before the switch).
struct ReshardError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
