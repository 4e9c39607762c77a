import Foundation
import Logging
import RetainProto
import RetainRuleSets
import RetainState
import Testing

/// Rules for the tests: `{"threshold": N}`, N from 1 to 1000, refused like a configuration file.
struct ThresholdRules: RuleSetRules, Equatable {
    static let ruleSetName = "threshold"
    let threshold: Int

    init(ruleSetDocument: [UInt8]) throws(RuleSetError) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(ruleSetDocument)) as? [String: Any] else {
            throw RuleSetError.invalidDocument(field: "", problem: "not a JSON object")
        }
        guard let threshold = object["threshold"] as? Int else {
            throw RuleSetError.invalidDocument(field: "threshold", problem: "is required")
        }
        guard (1...1000).contains(threshold) else {
            throw RuleSetError.invalidDocument(field: "threshold", problem: "must be 1 to 1000, not \(threshold)")
        }
        self.threshold = threshold
    }

    static func document(_ threshold: Int) -> [UInt8] { Array("{\"threshold\": \(threshold)}".utf8) }
}

/// A state that keeps only a threshold history, logged as Growth log entries' rule-set field.
struct ThresholdState: PersistentState, RuleSetKeeping {
    typealias LogEntry = Retain_V1_GrowthLogEntry
    var ruleSets = RuleSetHistory<ThresholdRules>()

    mutating func apply(_ entry: Retain_V1_GrowthLogEntry) throws {
        guard let version = entry.ruleSetVersion else { throw RuleSetError.malformedEntry("no version") }
        try ruleSets.apply(version)
    }

    func ruleSetEntry(_ version: Retain_V1_RuleSetVersion) -> Retain_V1_GrowthLogEntry {
        Retain_V1_GrowthLogEntry(ruleSetVersion: version)
    }

    func writeSnapshot(to sink: inout SnapshotSink) throws {
        try sink.write(Retain_V1_GrowthSnapshotHeader(format: 1, ruleSetVersions: ruleSets.versions))
    }

    mutating func restore(from source: inout SnapshotSource) throws {
        guard let header = try source.next(Retain_V1_GrowthSnapshotHeader.self) else { throw StateRecoveryError("no header") }
        try ruleSets.restore(header.ruleSetVersions)
    }
}

@Suite("rule-set history")
struct RuleSetHistoryTests {
    /// A history with versions added by `plans` (threshold, effective_from_ms, now).
    func history(_ plans: [(Int, Int64, Int64)]) throws -> RuleSetHistory<ThresholdRules> {
        var history = RuleSetHistory<ThresholdRules>()
        for (threshold, effective, now) in plans {
            let plan = try history.planSet(
                document: ThresholdRules.document(threshold), author: "ops", reason: "set \(threshold)",
                effectiveFromMs: effective, now: now)
            guard case .add(let version) = plan else {
                Issue.record("expected a new version")
                continue
            }
            try history.apply(version)
        }
        return history
    }

    @Test("the version in force at T is the newest whose effective time is at or before T")
    func inForceAtTime() throws {
        let history = try history([(10, 0, 1_000), (20, 0, 2_000), (30, 0, 3_000)])
        #expect(history.versions.map(\.version) == [1, 2, 3])
        #expect(history.rules(at: 999) == nil)
        #expect(history.rules(at: 1_000)?.threshold == 10)
        #expect(history.rules(at: 1_999)?.threshold == 10)
        #expect(history.rules(at: 2_000)?.threshold == 20)
        #expect(history.inForce(at: 5_000)?.version == 3)
        #expect(history.inForce(at: 2_500)?.effectiveFromMs == 2_000)
    }

    @Test("a version effective in the future waits for its time; the one before stays in force")
    func futureVersion() throws {
        let history = try history([(10, 0, 1_000), (20, 5_000, 2_000)])
        #expect(history.latest?.version == 2)
        #expect(history.latest?.createdAtMs == 2_000)
        #expect(history.rules(at: 4_999)?.threshold == 10)
        #expect(history.rules(at: 5_000)?.threshold == 20)
        // A write at 3,000 decides with version 1; at 6,000 with version 2.
        let fallback = try ThresholdRules(ruleSetDocument: ThresholdRules.document(1))
        #expect(history.rulesForDecision(now: 3_000, fallback: fallback).threshold == 10)
        #expect(history.rulesForDecision(now: 6_000, fallback: fallback).threshold == 20)
    }

    @Test("a write that read its clock before a version set at once still decides with that version")
    func decisionTimeFollowsLogOrder() throws {
        let history = try history([(10, 0, 1_000), (20, 0, 2_000)])
        let fallback = try ThresholdRules(ruleSetDocument: ThresholdRules.document(1))
        #expect(history.decisionTime(now: 1_990) == 2_000)
        #expect(history.rulesForDecision(now: 1_990, fallback: fallback).threshold == 20)
        #expect(RuleSetHistory<ThresholdRules>().rulesForDecision(now: 5, fallback: fallback).threshold == 1)
    }

    @Test("rollback is a new version with the older document, naming it")
    func rollback() throws {
        var history = try history([(10, 0, 1_000), (20, 0, 2_000)])
        let version = try history.planRollback(to: 1, author: "ops", reason: "", effectiveFromMs: 0, now: 3_000)
        try history.apply(version)
        #expect(version.version == 3)
        #expect(version.rollbackOf == 1)
        #expect(version.reason == "rollback to version 1")
        #expect(version.document == history.version(1)?.document)
        #expect(history.rules(at: 3_000)?.threshold == 10)
        #expect(history.rules(at: 2_500)?.threshold == 20)
        #expect(throws: RuleSetError.versionNotFound(ruleSet: "threshold", version: 9)) {
            try history.planRollback(to: 9, author: "ops", reason: "x", effectiveFromMs: 0, now: 4_000)
        }
    }

    @Test("a refused document names the field and plans nothing")
    func refused() throws {
        let history = try history([(10, 0, 1_000)])
        #expect(throws: RuleSetError.invalidDocument(field: "threshold", problem: "must be 1 to 1000, not 0")) {
            try history.planSet(document: ThresholdRules.document(0), author: "ops", reason: "x", effectiveFromMs: 0, now: 2_000)
        }
        let error = #expect(throws: RuleSetError.self) {
            try history.planSet(document: Array("[1]".utf8), author: "ops", reason: "x", effectiveFromMs: 0, now: 2_000)
        }
        #expect(error?.field == "document")
        #expect(throws: RuleSetError.invalid(field: "reason", reason: "is required")) {
            try history.planSet(document: ThresholdRules.document(5), author: "ops", reason: "", effectiveFromMs: 0, now: 2_000)
        }
        #expect(history.versions.count == 1)
    }

    @Test("setting the newest document again changes nothing; versions out of sequence are refused")
    func idempotentAndSequenced() throws {
        var history = try history([(10, 0, 1_000)])
        let again = try history.planSet(
            document: Array("{ \"threshold\" : 10 }".utf8), author: "ops", reason: "set 10", effectiveFromMs: 0, now: 2_000)
        #expect(again == .unchanged(history.versions[0]))
        var skipped = history.versions[0]
        skipped.version = 5
        #expect(throws: RuleSetError.self) { try history.apply(skipped) }
        #expect(history.versions.count == 1)
    }

    @Test("documents are stored canonical: keys sorted, the same bytes for the same rules")
    func canonical() throws {
        let one = try RuleSetDocument.canonical(Array("{\"b\": 1, \"a\": {\"d\": true, \"c\": \"x/y\"}}".utf8))
        let two = try RuleSetDocument.canonical(Array("{\"a\":{\"c\":\"x/y\",\"d\":true},\"b\":1}".utf8))
        #expect(one == two)
        let text = String(decoding: one, as: UTF8.self)
        #expect(text.firstRange(of: "\"a\"")!.lowerBound < text.firstRange(of: "\"b\"")!.lowerBound)
        #expect(text.contains("x/y"))
    }

    @Test("replaying the log and restoring a snapshot give the same history")
    func replayAndSnapshot() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rulesets-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "test")
        let written: [Retain_V1_RuleSetVersion]
        do {
            let store = try StateStore<ThresholdState>(directory: directory, logger: logger)
            for (index, threshold) in [10, 20, 30].enumerated() {
                try await store.writeDurably { transaction in
                    let plan = try transaction.withState {
                        try $0.ruleSets.planSet(
                            document: ThresholdRules.document(threshold), author: "ops", reason: "r\(index)",
                            effectiveFromMs: index == 2 ? 9_000 : 0, now: Int64(1_000 * (index + 1)))
                    }
                    try transaction.log(transaction.withState { $0.ruleSetEntry(plan.version) })
                }
            }
            written = store.read { $0.ruleSets.versions }
            store.close()
        }
        // Replayed from the log alone.
        let replayed = try StateStore<ThresholdState>(directory: directory, logger: logger)
        #expect(replayed.read { $0.ruleSets.versions } == written)
        #expect(replayed.read { $0.ruleSets.rules(at: 8_999)?.threshold } == 20)
        #expect(try replayed.snapshot() != nil)
        let rollback = try replayed.read { try $0.ruleSets.planRollback(to: 1, author: "ops", reason: "", effectiveFromMs: 0, now: 10_000) }
        _ = try await replayed.writeDurably { try $0.log(Retain_V1_GrowthLogEntry(ruleSetVersion: rollback)) }
        let all = replayed.read { $0.ruleSets.versions }
        replayed.close()
        // Restored from the snapshot and the log after it.
        let restored = try StateStore<ThresholdState>(directory: directory, logger: logger)
        #expect(restored.read { $0.ruleSets.versions } == all)
        #expect(restored.read { $0.ruleSets.rules(at: 10_000)?.threshold } == 10)
        restored.close()
    }
}
