import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Experiments are configuration (issue #19 item 10): two real Profile shards behind a real
/// gateway with credentials; only an admin defines or re-weights an experiment, through the
/// profile rule set (versioned, author and reason kept, the same on every shard); a caller with
/// profile:write only assigns, and its assignments stay sticky across re-weighting and kill -9.
@Suite("experiments defined by configuration", .serialized)
struct ExperimentConfigurationTests {
    /// `base` (a profile rule-set document, as `retain config get profile` prints it) with the
    /// checkout experiment defined at these weights: how an operator edits the configuration.
    static func document(_ base: [UInt8], _ weights: (control: Int, oneClick: Int)) throws -> [UInt8] {
        var document = try #require(try JSONSerialization.jsonObject(with: Data(base)) as? [String: Any])
        document["experiments"] = [
            "checkout": [
                "description": "one-click checkout",
                "variants": [["name": "control", "weight": weights.control], ["name": "one_click", "weight": weights.oneClick]],
            ]
        ]
        return Array(try JSONSerialization.data(withJSONObject: document))
    }

    func assign(
        _ cluster: RuleSetCluster, _ user: String, variants: [Retain_V1_ExperimentVariant] = []
    ) async throws
        -> Retain_V1_AssignVariantResponse
    {
        try await cluster.app.unary(
            Retain_V1_Profile.assignVariant, .init(userId: user, experimentId: "checkout", variants: variants))
    }

    @Test(
        "only an admin defines and re-weights; a writer's different weights are refused; assignments stay sticky across versions and kill -9"
    )
    func definedByConfiguration() async throws {
        let cluster = try RuleSetCluster(service: "profile", configuration: "{\"lifecycle\": {\"new_days\": 5}}")
        defer { Task { await cluster.stop() } }
        try await cluster.waitUntilServing()
        let users = (0..<40).map { "user-\($0)" }
        for user in users {
            _ = try await cluster.app.unary(Retain_V1_Profile.registerUser, .init(userId: user, channel: "ads"))
        }

        // Before: the first writer's call defined the experiment with the weights it sent.
        let undefined = await #expect(throws: RPCError.self) {
            _ = try await assign(cluster, "user-0", variants: [.init(name: "a", weight: 1)])
        }
        #expect(undefined?.code == .notFound)
        let base = try #require(try await cluster.app.unary(Retain_V1_RuleSets.getRuleSet, .init(service: "profile")).version?.document)
        let notAdmin = await #expect(throws: RPCError.self) {
            _ = try await cluster.app.unary(
                Retain_V1_RuleSets.setRuleSet, .init(service: "profile", document: try Self.document(base, (1, 1)), reason: "launch"))
        }
        #expect(notAdmin?.code == .permissionDenied)

        let launch = try await cluster.admin.unary(
            Retain_V1_RuleSets.setRuleSet,
            .init(service: "profile", document: try Self.document(base, (1, 1)), reason: "launch checkout test"))
        #expect(launch.version?.version == 2)
        var first: [String: String] = [:]
        for user in users.prefix(30) {
            let answer = try await assign(cluster, user)
            #expect(answer.definitionVersion == 2)
            #expect(!answer.sticky)
            first[user] = answer.variant
        }
        #expect(Set(first.values) == ["control", "one_click"])

        // A writer sending other weights is refused and changes nothing.
        let reweight = await #expect(throws: RPCError.self) {
            _ = try await assign(cluster, "user-30", variants: [.init(name: "control", weight: 0), .init(name: "one_click", weight: 1)])
        }
        #expect(reweight?.code == .failedPrecondition)
        #expect(reweight?.message.contains("profile rule set version 2") == true, "\(reweight?.message ?? "")")

        // The admin re-weights: everyone new goes to one_click; the assigned keep their variant.
        let all = try await cluster.admin.unary(
            Retain_V1_RuleSets.setRuleSet, .init(service: "profile", document: try Self.document(base, (0, 1)), reason: "ship one-click"))
        #expect(all.version?.version == 3)
        for user in users.suffix(10) {
            let answer = try await assign(cluster, user)
            #expect(answer.variant == "one_click", "\(user)")
            #expect(answer.definitionVersion == 3)
        }
        for user in users.prefix(30) {
            let answer = try await assign(cluster, user)
            #expect(answer.sticky && answer.variant == first[user], "\(user)")
        }

        // Every shard holds the same history: who, why, and the documents.
        for index in 0..<2 {
            let history = try await cluster.history(index)
            #expect(history.map(\.version) == [1, 2, 3])
            #expect(history.map(\.author) == ["file", "ops", "ops"])
            #expect(history.map(\.reason).suffix(2) == ["launch checkout test", "ship one-click"])
        }

        // Results across both shards count every assignment once.
        let results = try await cluster.app.unary(
            Retain_V1_Profile.getExperimentResults, .init(experimentId: "checkout", metricKind: "login"))
        #expect(results.variants.reduce(0) { $0 + $1.assigned } == 40)

        // kill -9 both shards: definitions and assignments are back, the version in force too
        // (the restarted shards listen on new ports: each user is asked of the shard that has it).
        try cluster.crashAndRestart(0)
        try cluster.crashAndRestart(1)
        // The file (which holds no experiments) agrees with the stored lifecycle: no notice that
        // it differs.
        for shard in cluster.shards {
            let log = (try? String(contentsOf: shard.logFile, encoding: .utf8)) ?? ""
            #expect(!log.contains("differs from the stored rule set"), "\(log)")
        }
        for user in users.prefix(30) {
            var answers: [Retain_V1_AssignVariantResponse] = []
            for index in 0..<2 {
                do {
                    answers.append(
                        try await cluster.shard(index, Retain_V1_Profile.assignVariant, .init(userId: user, experimentId: "checkout")))
                } catch let error as RPCError where error.code == .notFound {
                    continue
                }
            }
            #expect(answers.count == 1, "\(user) lives on one shard")
            #expect(answers.first?.sticky == true && answers.first?.variant == first[user], "\(user) after kill -9")
            #expect(answers.first?.definitionVersion == 3)
        }
    }
}
