import Foundation
import RetainProcess
import RetainTestSupport
import Testing

/// `retain config` against a live `retain-growth` (credential checks off): the rule set's
/// history, documents, a set, a dry run, a refusal, a diff and a rollback, with their exit codes.
@Suite("retain config against a live growth service", .serialized)
struct ConfigCommandTests {
    func retain(_ arguments: [String], server: ServerProcess, input: String? = nil) throws -> CommandLineTests.Output {
        try CommandLineTests().retain(["config"] + arguments + ["--server", "127.0.0.1:\(server.port)"], input: input)
    }

    static func document(silver: Int) -> String {
        """
        {"tiers": [{"name": "Bronze", "min_growth": 0}, {"name": "Silver", "min_growth": \(silver)}],
         "actions": [{"action": "post", "growth": 10}]}
        """
    }

    @Test("get, set, dry run, history, diff and rollback; a refused document exits 3 naming the field and stores nothing")
    func lifecycle() throws {
        let directory = try makeTemporaryDirectory("retain-config")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("growth.json")
        try Data(Self.document(silver: 100).utf8).write(to: file)
        let server = try ServerProcess(
            "retain-growth",
            arguments: ["--ops-port=-1", "--data-dir", directory.appendingPathComponent("data").path, "--config", file.path])
        defer { server.stop() }

        // Version 1 is the file.
        let first = try retain(["get", "growth"], server: server)
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.contains("\"min_growth\" : 100"), "\(first.stdout)")
        #expect(first.stderr.contains("growth version 1 by file"), "\(first.stderr)")

        // A dry run validates and stores nothing; a set stores version 2.
        let changed = directory.appendingPathComponent("changed.json")
        try Data(Self.document(silver: 250).utf8).write(to: changed)
        let dry = try retain(["set", "growth", changed.path, "--reason", "try", "--dry-run"], server: server)
        #expect(dry.status == 0 && dry.stdout.contains("valid; would store growth version 2"), "\(dry)")
        let set = try retain(["set", "growth", "growth", changed.path, "--reason", "raise silver"], server: server)
        #expect(set.status == 0 && set.stdout.contains("stored growth version 2 by anonymous"), "\(set)")

        // A document that breaks a rule: exit 3 (INVALID_ARGUMENT) naming the field; nothing stored.
        let refused = try retain(["set", "growth", "-", "--reason", "bad"], server: server, input: Self.document(silver: 0))
        #expect(refused.status == 3, "\(refused)")
        #expect(refused.stderr.contains("INVALID_ARGUMENT: document.tiers[1].min_growth"), "\(refused.stderr)")

        // Effective later: stored, not in force.
        let later = try retain(
            ["set", "growth", file.path, "--reason", "next year", "--effective-from", "2099-01-01T00:00:00Z"], server: server)
        #expect(later.status == 0 && later.stdout.contains("effective 2099-01-01T00:00:00.000Z"), "\(later)")
        let history = try retain(["history", "growth"], server: server)
        #expect(history.status == 0, "\(history)")
        let lines = history.stdout.split(separator: "\n")
        #expect(lines.count == 3, "\(history.stdout)")
        #expect(
            lines.count == 3 && lines[1].hasPrefix("* growth version 2") && lines[2].hasPrefix("  growth version 3"), "\(history.stdout)")

        // The diff of versions 1 and 2 is the one threshold.
        let diff = try retain(["diff", "growth", "1", "2"], server: server)
        #expect(diff.status == 0, "\(diff)")
        #expect(diff.stdout.contains("-      \"min_growth\" : 100"), "\(diff.stdout)")
        #expect(diff.stdout.contains("+      \"min_growth\" : 250"), "\(diff.stdout)")
        #expect(!diff.stdout.contains("Bronze\"\n-"), "\(diff.stdout)")

        // Rollback stores version 4 with version 1's document.
        let rollback = try retain(["rollback", "growth", "1"], server: server)
        #expect(rollback.status == 0 && rollback.stdout.contains("growth version 4"), "\(rollback)")
        #expect(rollback.stdout.contains("rollback of 1: rollback to version 1"), "\(rollback)")
        let now = try retain(["get", "growth"], server: server)
        #expect(now.stdout == first.stdout)
        let json = try retain(["history", "growth", "--json"], server: server)
        #expect(json.stdout.split(separator: "\n").last?.contains("\"in_force\":true") == true, "\(json.stdout)")
    }

    @Test("usage errors exit 64 before any call; an unknown version exits 5")
    func errors() throws {
        let directory = try makeTemporaryDirectory("retain-config")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerProcess(
            "retain-growth", arguments: ["--ops-port=-1", "--data-dir", directory.appendingPathComponent("data").path])
        defer { server.stop() }
        let noReason = try retain(["set", "growth", "x.json"], server: server)
        #expect(noReason.status == 64 && noReason.stderr.contains("--reason"), "\(noReason)")
        let unknown = try retain(["get", "billing"], server: server)
        #expect(unknown.status == 64 && unknown.stderr.contains("'billing' is not a service"), "\(unknown)")
        let badTime = try retain(["set", "growth", "x.json", "--reason", "r", "--effective-from", "soon"], server: server)
        #expect(badTime.status == 64 && badTime.stderr.contains("--effective-from 'soon'"), "\(badTime)")
        let missing = try retain(["get", "growth", "--version", "9"], server: server)
        #expect(missing.status == 5 && missing.stderr.contains("NOT_FOUND: rule set 'growth' has no version 9"), "\(missing)")
        let builtIn = try retain(["history", "growth"], server: server)
        #expect(builtIn.status == 0 && builtIn.stdout.contains("built-in standard rules"), "\(builtIn)")
    }
}
