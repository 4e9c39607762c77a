import Foundation
import GatewayCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Saved segments over real processes: two Profile shards, two Growth shards and the Ledger
/// behind a real gateway (credential checks off), a synthetic population written through the
/// gateway, and every count, member list and export compared with a brute-force evaluation of
/// what the test itself wrote.
@Suite("saved segments across services and shards", .serialized)
struct SavedSegmentClusterTests {
    static let day: Int64 = 86_400_000
    /// Growth's configured tiers (Services/Growth/Config/growth.json): level n from min growth.
    static let tiers: [Int64] = [0, 500, 2000, 10000, 50000]

    /// One synthetic user as the test wrote it.
    struct User: Sendable {
        var id: String
        var channel: String
        var tags: Set<String>
        var score: Int
        var country: String
        /// (day number before today: 1...40, kind) per event.
        var events: [(daysAgo: Int, kind: String)] = []
        /// (days before today, growth awarded) per award.
        var awards: [(daysAgo: Int, growth: Int64)] = []
        /// Coins credited (now: the past as-of time precedes every transfer).
        var points: Int64 = 0

        /// The coin balance at the end of the day `endDaysAgo` days before today (0: now).
        func coins(endDaysAgo: Int) -> Int64 { endDaysAgo == 0 ? points : 0 }

        /// Growth earned by the end of the day `endDaysAgo` days before today (0: now).
        func growth(endDaysAgo: Int = 0) -> Int64 { awards.filter { $0.daysAgo >= endDaysAgo }.reduce(0) { $0 + $1.growth } }
        func level(endDaysAgo: Int = 0) -> UInt32 {
            let total = growth(endDaysAgo: endDaysAgo)
            return UInt32(SavedSegmentClusterTests.tiers.lastIndex { $0 <= total }! + 1)
        }
        var level: UInt32 { level() }

        /// Events of `kind` ("" for every kind) on the `days` days ending `endDaysAgo` days before today.
        func count(_ kind: String, days: Int, endDaysAgo: Int) -> Int {
            events.count(where: { ($0.kind == kind || kind.isEmpty) && $0.daysAgo >= endDaysAgo && $0.daysAgo < endDaysAgo + days })
        }
    }

    /// A saved segment with its brute-force definition: `holds(user, endDaysAgo)` where
    /// endDaysAgo is 0 for now and the as-of day's distance from today otherwise.
    struct Case: Sendable {
        var name: String
        var rule: Retain_V1_SegmentRule
        var holds: @Sendable (User, Int) -> Bool
    }

    static func tag(_ name: String) -> Retain_V1_SegmentRule { Retain_V1_SegmentRule(tag: Retain_V1_TagPredicate(tag: name)) }
    static func activity(_ kind: String, days: UInt32, min: UInt32) -> Retain_V1_SegmentRule {
        Retain_V1_SegmentRule(activity: Retain_V1_ActivityCondition(kind: kind, days: days, minCount: min))
    }

    static let cases: [Case] = [
        Case(
            name: "vip_buyers", rule: Retain_V1_SegmentRule(all: [tag("vip"), activity("purchase", days: 14, min: 1)]),
            holds: { user, end in user.tags.contains("vip") && user.count("purchase", days: 14, endDaysAgo: end) >= 1 }),
        Case(
            name: "ads_or_high_no_beta",
            rule: Retain_V1_SegmentRule(all: [
                Retain_V1_SegmentRule(any: [
                    Retain_V1_SegmentRule(channel: Retain_V1_ChannelPredicate(channels: ["ads"])),
                    Retain_V1_SegmentRule(attributeRange: Retain_V1_AttributeRange(key: "score", hasMin: true, minValue: 70)),
                ]),
                Retain_V1_SegmentRule(none: [tag("beta")]),
            ]),
            holds: { user, _ in (user.channel == "ads" || user.score >= 70) && !user.tags.contains("beta") }),
        Case(
            name: "active_silver",
            rule: Retain_V1_SegmentRule(all: [
                Retain_V1_SegmentRule(level: Retain_V1_LevelPredicate(hasMinLevel: true, minLevel: 2)),
                activity("", days: 7, min: 2),
            ]),
            holds: { user, end in user.level(endDaysAgo: end) >= 2 && user.count("", days: 7, endDaysAgo: end) >= 2 }),
        Case(
            name: "rich_or_german",
            rule: Retain_V1_SegmentRule(any: [
                Retain_V1_SegmentRule(balance: Retain_V1_BalancePredicate(asset: "coins", hasMin: true, minValue: 300)),
                Retain_V1_SegmentRule(attributeEquals: Retain_V1_AttributeEquals(key: "country", values: ["de"])),
            ]),
            holds: { user, end in user.coins(endDaysAgo: end) >= 300 || user.country == "de" }),
        Case(
            name: "lapsed_with_points",
            rule: Retain_V1_SegmentRule(all: [
                Retain_V1_SegmentRule(none: [activity("", days: 10, min: 1)]),
                Retain_V1_SegmentRule(level: Retain_V1_LevelPredicate(hasMinPoints: true, minPoints: 200)),
                Retain_V1_SegmentRule(balance: Retain_V1_BalancePredicate(asset: "coins", hasMax: true, maxValue: 800)),
            ]),
            holds: { user, end in
                user.count("", days: 10, endDaysAgo: end) == 0 && user.growth(endDaysAgo: end) >= 200 && user.coins(endDaysAgo: end) <= 800
            }),
        Case(
            name: "recently_active", rule: activity("", days: 7, min: 1),
            holds: { user, end in user.count("", days: 7, endDaysAgo: end) >= 1 }),
    ]

    final class Cluster: @unchecked Sendable {
        let root: URL
        var processes: [String: ServerProcess] = [:]
        var gatewayProcess: ServerProcess!
        var gateway: RPCClient!

        init() throws {
            root = try makeTemporaryDirectory("retain-segments")
            var services: [Topology.Service] = []
            for (service, count) in [("profile", 2), ("growth", 2), ("ledger", 1)] {
                var instances: [Topology.Instance] = []
                for index in 0..<count {
                    let id = "\(service)-\(index)"
                    let process = try start(id)
                    processes[id] = process
                    instances.append(Topology.Instance(id: id, host: "127.0.0.1", port: process.port))
                }
                services.append(
                    Topology.Service(name: "retain.v1.\(service.prefix(1).uppercased())\(service.dropFirst())", instances: instances))
            }
            let file = root.appendingPathComponent("topology.json")
            try Topology(services: services).encoded().write(to: file)
            gatewayProcess = try ServerProcess(
                "retain-gateway",
                arguments: ["--topology", file.path, "--health-interval-ms", "200", "--log-level", "warning", "--ops-port=-1"])
            gateway = RPCClient(host: "127.0.0.1", port: gatewayProcess.port)
        }

        func start(_ id: String, port: Int = 0) throws -> ServerProcess {
            let service = String(id.prefix { $0 != "-" })
            let directory = root.appendingPathComponent(id)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var arguments = ["--data-dir", directory.path, "--durability", "interval:20", "--log-level", "warning", "--ops-port=-1"]
            if service == "growth" { arguments.append("--allow-client-times") }
            return try ServerProcess("retain-\(service)", arguments: arguments, port: port)
        }

        /// Kills `id` with SIGKILL and starts it again on the same port and data.
        func crashAndRestart(_ id: String) throws {
            let port = processes[id]!.port
            processes[id]!.kill()
            processes[id] = try start(id, port: port)
        }

        func waitUntilServing() async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while true {
                let backends = try? await gateway.unary(Retain_V1_Gateway.listBackends, .init()).backends
                if let backends, backends.count == 5, backends.allSatisfy(\.inRotation) { return }
                guard ContinuousClock.now < deadline else { throw RPCError(.unavailable, "the shards are not all in rotation") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        func stop() async {
            await gateway.close()
            _ = gatewayProcess.stop()
            for process in processes.values { _ = process.stop() }
            try? FileManager.default.removeItem(at: root)
        }
    }

    let options = CallOptions(timeout: .seconds(60))

    /// Writes `count` random users through the gateway and returns them as written.
    func populate(_ gateway: RPCClient, count: Int, today: Int64) async throws -> [User] {
        var random = SystemRandomNumberGenerator()
        _ = try await gateway.unary(
            Retain_V1_Ledger.openAccount, Retain_V1_OpenAccountRequest(accountId: "budget:segtest:coins"), options: options)
        var users: [User] = []
        for number in 0..<count {
            var user = User(
                id: "s\(String(format: "%04d", number))", channel: ["ads", "organic", "social"].randomElement(using: &random)!,
                tags: Set(["vip", "beta", "churn_risk"].filter { _ in Bool.random(using: &random) }),
                score: Int.random(in: 0...100, using: &random), country: ["cn", "de", "us"].randomElement(using: &random)!)
            _ = try await gateway.unary(
                Retain_V1_Profile.registerUser,
                Retain_V1_RegisterUserRequest(
                    userId: user.id, channel: user.channel, attributes: ["score": "\(user.score)", "country": user.country],
                    tags: user.tags.sorted(), registeredAtMs: today - 60 * Self.day),
                options: options)
            var events: [Retain_V1_ActivityEvent] = []
            for index in 0..<Int.random(in: 0...12, using: &random) {
                let daysAgo = Int.random(in: 1...40, using: &random)
                let kind = ["login", "visit", "purchase"].randomElement(using: &random)!
                user.events.append((daysAgo, kind))
                events.append(
                    Retain_V1_ActivityEvent(
                        userId: user.id, eventId: "\(user.id)-e\(index)", kind: kind,
                        occurredAtMs: today - Int64(daysAgo) * Self.day + Self.day / 2 + Int64(index),
                        value: kind == "purchase" ? Retain_V1_Amount(value: 1000, asset: "cash.usd") : nil))
            }
            if !events.isEmpty {
                let answer = try await gateway.unary(
                    Retain_V1_Profile.recordActivities, Retain_V1_RecordActivitiesRequest(events: events), options: options)
                #expect(answer.acceptedCount == UInt32(events.count), "\(answer)")
            }
            // Growth: purchases of random value on a few distinct days (capped per day by Growth:
            // the test keeps what Growth says it awarded).
            // In time order, some before the past as-of time (11 days ago) and some after.
            for (award, daysAgo) in [18, 14, 3, 1].prefix(Int.random(in: 0...4, using: &random)).enumerated() {
                let answer = try await gateway.unary(
                    Retain_V1_Growth.awardGrowth,
                    Retain_V1_AwardGrowthRequest(
                        userId: user.id, action: "purchase", idempotencyKey: "\(user.id)-g\(award)",
                        value: Int64.random(in: 1...100_000, using: &random), occurredAtMs: today - Int64(daysAgo) * Self.day),
                    options: options)
                user.awards.append((daysAgo, answer.awardedGrowth))
            }
            // Coins, not points: the gateway pays level-up rewards in points on its own.
            let points = Int64.random(in: 0...1000, using: &random)
            if points > 0, Bool.random(using: &random) {
                let answer = try await gateway.unary(
                    Retain_V1_Ledger.createTransfers,
                    Retain_V1_CreateTransfersRequest(transfers: [
                        Retain_V1_Transfer(
                            transferId: "\(user.id)-p", debitAccountId: "budget:segtest:coins", creditAccountId: "user:\(user.id):coins",
                            amount: points, asset: "coins", kind: .issue)
                    ]), options: options)
                #expect(answer.results.first?.code == .ok, "\(answer)")
                user.points = points
            }
            users.append(user)
        }
        return users
    }

    /// Every member through the gateway, page by page.
    func members(_ gateway: RPCClient, _ name: String, asOf: Int64, pageSize: UInt32) async throws -> [Retain_V1_SegmentMember] {
        var token = ""
        var members: [Retain_V1_SegmentMember] = []
        repeat {
            let page = try await gateway.unary(
                Retain_V1_Gateway.listSavedSegmentMembers,
                Retain_V1_ListSavedSegmentMembersRequest(
                    name: name, asOfMs: token.isEmpty ? asOf : 0, page: Retain_V1_PageRequest(pageSize: pageSize, pageToken: token)),
                options: options)
            #expect(page.members.count <= Int(pageSize))
            members += page.members
            token = page.pageInfo?.nextPageToken ?? ""
        } while !token.isEmpty
        return members
    }

    /// Runs the built `retain` command.
    func retain(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = ServerProcess.buildDirectory.appendingPathComponent("retain")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitForExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test("count, members and export equal a brute-force evaluation; as-of differs for activity windows; definitions survive kill -9")
    func bruteForce() async throws {
        let cluster = try Cluster()
        do {
            try await check(cluster)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    func check(_ cluster: Cluster) async throws {
        let gateway = cluster.gateway!
        try await cluster.waitUntilServing()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let today = now / Self.day * Self.day
        let users = try await populate(gateway, count: 240, today: today)
        for segment in Self.cases {
            let answer = try await gateway.unary(
                Retain_V1_Profile.putSavedSegment,
                Retain_V1_PutSavedSegmentRequest(
                    segment: Retain_V1_SavedSegment(name: segment.name, description: "test", rule: segment.rule), create: true,
                    actor: "tester"),
                options: options)
            #expect(answer.segment?.version == 1)
        }
        // A bad rule is refused naming the field, on the way through the gateway.
        await #expect {
            _ = try await gateway.unary(
                Retain_V1_Profile.putSavedSegment,
                Retain_V1_PutSavedSegmentRequest(
                    segment: Retain_V1_SavedSegment(
                        name: "bad", rule: Retain_V1_SegmentRule(all: [Self.activity("login", days: 3, min: 1)])),
                    create: true, actor: "tester"),
                options: options)
        } throws: { error in
            (error as? RPCError)?.code == .invalidArgument
                && (error as? RPCError)?.message.contains("segment.rule.all[0].activity.days") == true
        }
        // As of the end of the day 11 days ago, and now.
        let pastEnd = 11
        let past = today - Int64(pastEnd - 1) * Self.day - 1
        for segment in Self.cases {
            for (asOf, end) in [(Int64(0), 0), (past, pastEnd)] {
                let expected = users.filter { segment.holds($0, end) }.map(\.id).sorted()
                let count = try await gateway.unary(
                    Retain_V1_Gateway.countSavedSegment, Retain_V1_CountSavedSegmentRequest(name: segment.name, asOfMs: asOf),
                    options: options)
                #expect(count.count == UInt64(expected.count), "\(segment.name) as of \(asOf): count")
                let listed = try await members(gateway, segment.name, asOf: asOf, pageSize: 17)
                #expect(listed.map(\.userId) == expected, "\(segment.name) as of \(asOf): members")
            }
        }
        // The activity window moves with the as-of time.
        let active = Self.cases.last!
        #expect(users.filter { active.holds($0, 0) }.map(\.id) != users.filter { active.holds($0, pastEnd) }.map(\.id))
        // Export through the command: every member, with the rule's fields.
        let rich = Self.cases[3]
        let exported = try retain([
            "segment", "export", rich.name, "--gateway", "127.0.0.1:\(cluster.gatewayProcess.port)", "--page-size", "25",
        ])
        #expect(exported.status == 0, "\(exported.stderr)")
        let lines = exported.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "user_id,balance:coins,attribute:country")
        let expectedRich = users.filter { rich.holds($0, 0) }.sorted { $0.id < $1.id }
        #expect(Array(lines.dropFirst()) == expectedRich.map { "\($0.id),\($0.points),\($0.country)" })
        let jsonl = try retain([
            "segment", "export", "vip_buyers", "--format", "jsonl", "--gateway", "127.0.0.1:\(cluster.gatewayProcess.port)",
        ])
        let vipBuyers = users.filter { Self.cases[0].holds($0, 0) }
        #expect(jsonl.stdout.split(separator: "\n").count == vipBuyers.count)
        // Defined and counted through the command: a rule file in JSON; a bad one exits 3 naming the field.
        let gatewayAddress = "127.0.0.1:\(cluster.gatewayProcess.port)"
        let ruleFile = cluster.root.appendingPathComponent("rule.json")
        try #"{"all": [{"tag": {"tag": "churn_risk"}}, {"level": {"hasMaxLevel": true, "maxLevel": 1}}]}"#.write(
            to: ruleFile, atomically: true, encoding: .utf8)
        let created = try retain(["segment", "create", "cli_made", "--rule", ruleFile.path, "--gateway", gatewayAddress])
        #expect(created.status == 0 && created.stdout.contains("\"version\""), "\(created)")
        let counted = try retain(["segment", "count", "cli_made", "--gateway", gatewayAddress])
        let expectedCLI = users.filter { $0.tags.contains("churn_risk") && $0.level <= 1 }.count
        #expect(counted.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(expectedCLI)", "\(counted)")
        try #"{"any": [{"activity": {"kind": "share", "days": 7, "minCount": 1}}]}"#.write(to: ruleFile, atomically: true, encoding: .utf8)
        let refused = try retain(["segment", "create", "bad", "--rule", ruleFile.path, "--gateway", gatewayAddress])
        #expect(refused.status == 3 && refused.stderr.contains("segment.rule.any[0].activity.days"), "\(refused)")
        let deletedByCLI = try retain(["segment", "delete", "cli_made", "--gateway", gatewayAddress])
        #expect(deletedByCLI.status == 0, "\(deletedByCLI)")
        // The definitions survive kill -9 of a Profile shard and of a Growth shard.
        try cluster.crashAndRestart("profile-0")
        try cluster.crashAndRestart("growth-1")
        try await cluster.waitUntilServing()
        let listedAfter = try await gateway.unary(Retain_V1_Profile.listSavedSegments, .init(), options: options)
        #expect(listedAfter.segments.map(\.name) == Self.cases.map(\.name).sorted())
        for segment in Self.cases {
            let expected = users.filter { segment.holds($0, pastEnd) }.count
            let count = try await gateway.unary(
                Retain_V1_Gateway.countSavedSegment, Retain_V1_CountSavedSegmentRequest(name: segment.name, asOfMs: past),
                options: options)
            #expect(count.count == UInt64(expected), "\(segment.name) after the restart")
        }
        // Updating bumps the version on every shard; a page token of the old version is refused.
        let first = try await gateway.unary(
            Retain_V1_Gateway.listSavedSegmentMembers,
            Retain_V1_ListSavedSegmentMembersRequest(name: "recently_active", page: Retain_V1_PageRequest(pageSize: 1)), options: options)
        let updated = try await gateway.unary(
            Retain_V1_Profile.putSavedSegment,
            Retain_V1_PutSavedSegmentRequest(
                segment: Retain_V1_SavedSegment(name: "recently_active", rule: Self.activity("", days: 3, min: 1)), actor: "tester"),
            options: options)
        #expect(updated.segment?.version == 2)
        await #expect {
            _ = try await gateway.unary(
                Retain_V1_Gateway.listSavedSegmentMembers,
                Retain_V1_ListSavedSegmentMembersRequest(
                    name: "recently_active", page: Retain_V1_PageRequest(pageSize: 1, pageToken: first.pageInfo!.nextPageToken)),
                options: options)
        } throws: { error in
            (error as? RPCError)?.code == .failedPrecondition
        }
        let deleted = try await gateway.unary(
            Retain_V1_Profile.deleteSavedSegment, Retain_V1_DeleteSavedSegmentRequest(name: "recently_active", actor: "tester"),
            options: options)
        #expect(deleted.existed)
        await #expect {
            _ = try await gateway.unary(
                Retain_V1_Gateway.countSavedSegment, Retain_V1_CountSavedSegmentRequest(name: "recently_active"), options: options)
        } throws: { error in
            (error as? RPCError)?.code == .notFound
        }
    }
}
