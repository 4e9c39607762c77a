import Foundation
import GatewayCore
import RetainAuth
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// A service (Growth unless told) as two real shards behind a real gateway, credentials checked
/// (an admin key "ops", a key "app" with the service's read and write scopes): its rules changed
/// through retain.v1.RuleSets while it serves (docs/CONFIG.md).
final class RuleSetCluster: @unchecked Sendable {
    static let secret = ServiceSecret.generateText()

    /// The service's short name: "growth" or "profile".
    let service: String
    let root: URL
    let configFile: URL
    private(set) var shards: [ServerProcess]
    private let gatewayProcess: ServerProcess
    /// The gateway with the admin key and with the application's key.
    let admin: RPCClient
    let app: RPCClient
    private let minter: TokenMinter

    /// Tiers every `step` growth: level = 1 + total / step; the action "tick" gives 10.
    static func document(step: Int64, tiers: Int = 40) -> String {
        let list = (0..<tiers).map { "{\"name\": \"L\($0 + 1)\", \"min_growth\": \(Int64($0) * step)}" }
        return "{\"tiers\": [\(list.joined(separator: ", "))], \"actions\": [{\"action\": \"tick\", \"growth\": 10}]}"
    }

    /// Growth with tiers every `step` growth.
    convenience init(step: Int64) throws {
        try self.init(service: "growth", configuration: Self.document(step: step))
    }

    /// `service` ("growth" or "profile") started with the configuration file `configuration`.
    init(service: String, configuration: String) throws {
        let root = try makeTemporaryDirectory("retain-rulesets")
        let configFile = root.appendingPathComponent("\(service).json")
        self.service = service
        self.root = root
        self.configFile = configFile
        try Data(configuration.utf8).write(to: configFile)
        let (adminKey, adminEntry) = APIKeyStore.makeKey(id: "ops", scopes: [.admin])
        let (appKey, appEntry) = APIKeyStore.makeKey(
            id: "app", scopes: [.read(service)!, .write(service)!], rateLimit: .init(perSecond: 100_000, burst: 100_000))
        let keysFile = root.appendingPathComponent("api-keys.json")
        try Data("{\"keys\": [\(adminEntry.json), \(appEntry.json)]}".utf8).write(to: keysFile)
        minter = TokenMinter(secret: try ServiceSecret(Self.secret), configuration: .init(issuer: "tests"))
        var shards: [ServerProcess] = []
        let gatewayProcess: ServerProcess
        do {
            for index in 0..<2 { shards.append(try Self.startShard(service, index, root: root, config: configFile)) }
            let topology = root.appendingPathComponent("topology.json")
            try Topology(services: [
                Topology.Service(
                    name: "retain.v1.\(service.prefix(1).uppercased() + service.dropFirst())",
                    instances: shards.enumerated().map { Topology.Instance(id: "\(service)-\($0)", host: "127.0.0.1", port: $1.port) })
            ]).encoded().write(to: topology)
            gatewayProcess = try ServerProcess(
                "retain-gateway",
                arguments: [
                    "--topology", topology.path, "--api-keys-file", keysFile.path, "--health-interval-ms", "200",
                    "--log-level", "warning", "--ops-port=-1",
                ], serviceSecret: Self.secret)
        } catch {
            for shard in shards { shard.kill() }
            try? FileManager.default.removeItem(at: root)
            throw error
        }
        func client(_ key: String) -> RPCClient {
            var configuration = RPCClient.Configuration()
            configuration.credentials = StaticCredentials("ApiKey " + key)
            return RPCClient(host: "127.0.0.1", port: gatewayProcess.port, configuration: configuration)
        }
        self.shards = shards
        self.gatewayProcess = gatewayProcess
        admin = client(adminKey)
        app = client(appKey)
    }

    /// Starts shard `index` of `service` on its data directory with the configuration file `config`.
    private static func startShard(_ service: String, _ index: Int, root: URL, config: URL) throws -> ServerProcess {
        let directory = root.appendingPathComponent("\(service)-\(index)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try ServerProcess(
            "retain-\(service)",
            arguments: [
                "--data-dir", directory.path, "--config", config.path, "--durability", "always",
                "--log-level", "notice", "--ops-port=-1",
            ], serviceSecret: secret)
    }

    /// Kills shard `index` with SIGKILL and starts it again on the same data directory (on a new
    /// port: call it directly with ``shard(_:)``).
    func crashAndRestart(_ index: Int, config: URL? = nil) throws {
        shards[index].kill()
        shards[index] = try Self.startShard(service, index, root: root, config: config ?? configFile)
    }

    /// Calls shard `index` directly, with an admin service token.
    func shard<I, O>(_ index: Int, _ method: RPCMethod<I, O>, _ request: I) async throws -> O {
        var configuration = RPCClient.Configuration()
        configuration.credentials = StaticCredentials(minter.authorization(subject: "tests", scopes: [.admin]))
        let client = RPCClient(host: "127.0.0.1", port: shards[index].port, configuration: configuration)
        defer { Task { await client.close() } }
        return try await client.unary(method, request, options: CallOptions(timeout: .seconds(10)))
    }

    /// Every version on shard `index`, documents included.
    func history(_ index: Int) async throws -> [Retain_V1_RuleSetVersion] {
        try await shard(index, Retain_V1_RuleSets.listRuleSetVersions, .init(service: service, includeDocuments: true)).versions
    }

    func waitUntilServing() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let backends = try? await admin.unary(Retain_V1_Gateway.listBackends, .init()).backends
            if let backends, backends.count == 2, backends.allSatisfy(\.inRotation) { return }
            guard ContinuousClock.now < deadline else { throw RPCError(.unavailable, "the shards are not in rotation") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func stop() async {
        await admin.close()
        await app.close()
        _ = gatewayProcess.stop()
        for shard in shards { _ = shard.stop() }
        try? FileManager.default.removeItem(at: root)
    }
}

/// What the awarders saw: every acknowledged award with the order of events around it.
final class AwardOracle: Sendable {
    struct Award: Sendable {
        let user: String
        let round: Int
        /// Event numbers: when it was sent and when its answer came.
        let sent: Int
        let acknowledged: Int
        let total: Int64
        let level: UInt32
    }

    private let state = Mutex<(clock: Int, awards: [Award])>((0, []))

    /// The next event number.
    func tick() -> Int {
        state.withLock { state in
            state.clock += 1
            return state.clock
        }
    }

    func record(user: String, round: Int, sent: Int, answer: Retain_V1_AwardGrowthResponse) {
        state.withLock { state in
            state.clock += 1
            state.awards.append(
                Award(user: user, round: round, sent: sent, acknowledged: state.clock, total: answer.totalGrowth, level: answer.level))
        }
    }

    var awards: [Award] { state.withLock { $0.awards } }
    var count: Int { state.withLock { $0.awards.count } }
}

@Suite("live configuration over TCP (retain.v1.RuleSets through the gateway)", .serialized)
struct LiveConfigurationTests {
    static let oldStep: Int64 = 100
    static let newStep: Int64 = 50

    static func level(_ total: Int64, step: Int64) -> UInt32 { UInt32(min(total / step, 39) + 1) }

    /// Awards "tick" to `users` for `rounds` rounds through the gateway, `workers` at a time, each
    /// user's awards in order; an award that fails is sent again with the same key until it is
    /// acknowledged, so none is lost. Calls `midway` once a third are acknowledged.
    static func award(
        _ cluster: RuleSetCluster, users: [String], rounds: Int, workers: Int, prefix: String, oracle: AwardOracle,
        midway: @escaping @Sendable () async throws -> Void
    ) async throws {
        let total = users.count * rounds
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                let mine = users.enumerated().filter { $0.offset % workers == worker }.map(\.element)
                group.addTask {
                    for round in 0..<rounds {
                        for user in mine {
                            let request = Retain_V1_AwardGrowthRequest(
                                userId: user, action: "tick", idempotencyKey: "\(prefix)-\(round)")
                            var attempt = 0
                            while true {
                                let sent = oracle.tick()
                                do {
                                    let answer = try await cluster.app.unary(
                                        Retain_V1_Growth.awardGrowth, request, options: CallOptions(timeout: .seconds(10)))
                                    oracle.record(user: user, round: round, sent: sent, answer: answer)
                                    break
                                } catch {
                                    attempt += 1
                                    if attempt >= 20 { throw error }
                                    try await Task.sleep(for: .milliseconds(20))
                                }
                            }
                        }
                    }
                }
            }
            group.addTask {
                while oracle.count < total / 3 { try await Task.sleep(for: .milliseconds(2)) }
                try await midway()
            }
            try await group.waitForAll()
        }
    }

    @Test(
        "a tier threshold changed mid-run under load: awards before the change use the old rule, after it the new, none lost; rollback restores the old rule"
    )
    func thresholdChangedUnderLoad() async throws {
        let cluster = try RuleSetCluster(step: Self.oldStep)
        defer { Task { await cluster.stop() } }
        try await cluster.waitUntilServing()
        let initial = try await cluster.history(0)
        #expect(initial.count == 1)
        #expect(initial.first?.author == "file")
        #expect(initial.first?.reason.contains(cluster.configFile.path) == true)
        // Each shard stored the file as its own version 1 (at its own clock time).
        #expect(try await cluster.history(1).map(\.document) == initial.map(\.document))

        let users = (0..<16).map { "user-\($0)" }
        let rounds = 24
        let oracle = AwardOracle()
        let change = Mutex<(sent: Int, acknowledged: Int)>((0, 0))
        try await Self.award(cluster, users: users, rounds: rounds, workers: 4, prefix: "load", oracle: oracle) {
            let sent = oracle.tick()
            let answer = try await cluster.admin.unary(
                Retain_V1_RuleSets.setRuleSet,
                .init(
                    service: "growth", document: Array(RuleSetCluster.document(step: Self.newStep).utf8),
                    reason: "halve the thresholds"))
            let acknowledged = oracle.tick()
            change.withLock { $0 = (sent, acknowledged) }
            #expect(answer.version?.version == 2)
            #expect(answer.version?.author == "ops")
        }

        // None lost: every award acknowledged once, each user's total the sum of its awards.
        let awards = oracle.awards
        #expect(awards.count == users.count * rounds)
        let (changeSent, changeAcknowledged) = change.withLock { $0 }
        var before = 0
        var after = 0
        for user in users {
            let mine = awards.filter { $0.user == user }.sorted { $0.round < $1.round }
            #expect(mine.map(\.total) == (1...rounds).map { Int64($0) * 10 }, "\(user)")
            var sawNew = false
            for award in mine {
                let old = Self.level(award.total, step: Self.oldStep)
                let new = Self.level(award.total, step: Self.newStep)
                if award.acknowledged < changeSent {
                    before += 1
                    #expect(award.level == old, "\(user) round \(award.round) answered before the change")
                } else if award.sent > changeAcknowledged {
                    after += 1
                    #expect(award.level == new, "\(user) round \(award.round) sent after the change")
                } else {
                    #expect(award.level == old || award.level == new, "\(user) round \(award.round) during the change")
                }
                // Within a user the rule changes once, never back.
                if old != new {
                    if award.level == new { sawNew = true }
                    #expect(!(sawNew && award.level == old), "\(user) round \(award.round) went back to the old rule")
                }
            }
            let view = try await cluster.app.unary(Retain_V1_Growth.getGrowthView, .init(userId: user))
            #expect(view.totalGrowth == Int64(rounds) * 10)
            #expect(view.level?.level == Self.level(view.totalGrowth, step: Self.newStep))
        }
        #expect(before > 0 && after > 0, "before \(before), after \(after)")

        // Both shards hold the same history.
        let histories = [try await cluster.history(0), try await cluster.history(1)]
        #expect(histories[0].map(\.version) == [1, 2])
        #expect(histories[0].map(\.document) == histories[1].map(\.document))
        #expect(histories[1].last?.reason == "halve the thresholds")

        // Rollback to version 1: awards after it use the old rule again.
        let rollback = try await cluster.admin.unary(
            Retain_V1_RuleSets.rollbackRuleSet, .init(service: "growth", toVersion: 1))
        #expect(rollback.version?.version == 3)
        #expect(rollback.version?.rollbackOf == 1)
        #expect(rollback.version?.document == histories[0][0].document)
        for user in users {
            let answer = try await cluster.app.unary(
                Retain_V1_Growth.awardGrowth, .init(userId: user, action: "tick", idempotencyKey: "after-rollback"))
            #expect(answer.totalGrowth == Int64(rounds + 1) * 10)
            #expect(answer.level == Self.level(answer.totalGrowth, step: Self.oldStep), "\(user) after the rollback")
        }
        let inForce = try await cluster.app.unary(Retain_V1_RuleSets.getRuleSet, .init(service: "growth"))
        #expect(inForce.version?.version == 3)
        #expect(try await cluster.history(1).map(\.rollbackOf) == [0, 0, 1])
    }

    @Test(
        "a refused document names the field and changes nothing; dry runs store nothing; only admins write; the history survives kill -9 and a different file"
    )
    func refusalsAndRestart() async throws {
        let cluster = try RuleSetCluster(step: Self.oldStep)
        defer { Task { await cluster.stop() } }
        try await cluster.waitUntilServing()

        // A document whose second tier does not rise: INVALID_ARGUMENT naming the field.
        let bad =
            "{\"tiers\": [{\"name\": \"A\", \"min_growth\": 0}, {\"name\": \"B\", \"min_growth\": 0}], \"actions\": [{\"action\": \"tick\", \"growth\": 10}]}"
        let refused = await #expect(throws: RPCError.self) {
            _ = try await cluster.admin.unary(
                Retain_V1_RuleSets.setRuleSet, .init(service: "growth", document: Array(bad.utf8), reason: "bad"))
        }
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.message.contains("document.tiers[1].min_growth") == true, "\(refused?.message ?? "")")
        #expect(refused?.details["field"] == "document.tiers[1].min_growth")
        let unknown = await #expect(throws: RPCError.self) {
            _ = try await cluster.admin.unary(
                Retain_V1_RuleSets.setRuleSet,
                .init(service: "growth", document: Array("{\"tiers\": [], \"actionz\": []}".utf8), reason: "typo"))
        }
        #expect(unknown?.message.contains("document.actionz: unknown key") == true, "\(unknown?.message ?? "")")

        // A dry run validates and stores nothing.
        let dry = try await cluster.admin.unary(
            Retain_V1_RuleSets.setRuleSet,
            .init(service: "growth", document: Array(RuleSetCluster.document(step: 70).utf8), reason: "try", dryRun: true))
        #expect(dry.dryRun && dry.version?.version == 2)

        // Only an admin writes; any caller reads; a service that is not one is refused.
        let denied = await #expect(throws: RPCError.self) {
            _ = try await cluster.app.unary(
                Retain_V1_RuleSets.setRuleSet,
                .init(service: "growth", document: Array(RuleSetCluster.document(step: 70).utf8), reason: "not mine"))
        }
        #expect(denied?.code == .permissionDenied)
        let wrongService = await #expect(throws: RPCError.self) {
            _ = try await cluster.app.unary(Retain_V1_RuleSets.getRuleSet, .init(service: "billing"))
        }
        #expect(wrongService?.code == .invalidArgument && wrongService?.details["field"] == "service")
        for index in 0..<2 { #expect(try await cluster.history(index).count == 1) }
        // Reflection through the gateway lists the service.
        let services = try await cluster.app.unary(Retain_V1_Reflection.listServices, .init()).services
        #expect(services.first { $0.name == "retain.v1.RuleSets" }?.methods.count == 4, "\(services.map(\.name))")

        // Two versions, one effective in the future, then kill -9 both shards.
        let future = Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        _ = try await cluster.admin.unary(
            Retain_V1_RuleSets.setRuleSet,
            .init(service: "growth", document: Array(RuleSetCluster.document(step: 70).utf8), reason: "seventy"))
        _ = try await cluster.admin.unary(
            Retain_V1_RuleSets.setRuleSet,
            .init(
                service: "growth", document: Array(RuleSetCluster.document(step: 20).utf8), reason: "later",
                effectiveFromMs: future))
        let before = [try await cluster.history(0), try await cluster.history(1)]
        #expect(before[0].map(\.version) == [1, 2, 3])
        #expect(before[1].map(\.document) == before[0].map(\.document))
        #expect(before[1].map(\.effectiveFromMs).last == future)
        let inForce = try await cluster.app.unary(Retain_V1_RuleSets.getRuleSet, .init(service: "growth"))
        #expect(inForce.version?.version == 2 && inForce.latestVersion == 3)
        let later = try await cluster.app.unary(Retain_V1_RuleSets.getRuleSet, .init(service: "growth", atMs: future))
        #expect(later.version?.version == 3)

        // Restarted on their data directories, one with a different configuration file: the
        // stored history wins (and a notice says the file differs).
        let other = cluster.root.appendingPathComponent("other.json")
        try Data(RuleSetCluster.document(step: 5).utf8).write(to: other)
        try cluster.crashAndRestart(0, config: other)
        try cluster.crashAndRestart(1)
        for index in 0..<2 { #expect(try await cluster.history(index) == before[index]) }
        #expect(cluster.shards[0].log.contains("differs from the stored rule set"), "\(cluster.shards[0].log)")
        let answer = try await cluster.shard(
            0, Retain_V1_Growth.awardGrowth, .init(userId: "restarted", action: "tick", idempotencyKey: "k"))
        #expect(answer.totalGrowth == 10 && answer.level == 1)  // step 70 in force: 10 < 70.
        let tiers = try await cluster.shard(0, Retain_V1_Growth.getLevelTiers, .init())
        #expect(tiers.tiers.dropFirst().first?.minGrowth == 70)
    }
}
