import ArgumentParser
import Foundation
import RetainProto

/// `retain config get SERVICE [RULESET]`: prints the document in force (or of `--version`) on
/// standard output, and which version it is on standard error.
struct ConfigGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print a rule set's document in force (or of --version).")

    @Argument(help: "SERVICE [RULESET]: profile, growth, ledger or feedback, and the rule set (default the service's one).")
    var arguments: [String] = []
    @Option(help: "The version to print (default: the one in force).") var version: UInt64 = 0
    @Option(help: "Print the version in force at this time (Unix ms or ISO-8601).") var at: String?
    @OptionGroup var connection: GatewayOptions

    func run() async throws {
        let address = try RuleSetAddress(arguments, trailing: 0...0, usage: "retain config get SERVICE [RULESET]")
        let at = try at.map { try ConfigTime.milliseconds($0, option: "--at") } ?? 0
        try await ExitStatus.reporting {
            let answer = try await connection.call(
                Retain_V1_RuleSets.getRuleSet,
                Retain_V1_GetRuleSetRequest(service: address.service, ruleSet: address.ruleSet, version: version, atMs: at))
            let found = answer.version ?? Retain_V1_RuleSetVersion()
            ExitStatus.printError(ConfigDescription.line(found, latest: answer.latestVersion))
            FileHandle.standardOutput.write(Data(found.document))
        }
    }
}

/// `retain config set SERVICE [RULESET] FILE --reason TEXT`: stores a new version (or, with
/// `--dry-run`, only validates it).
struct ConfigSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Store FILE as a rule set's next version ('-' reads standard input).")

    @Argument(help: "SERVICE [RULESET] FILE.") var arguments: [String] = []
    @Option(help: "Why (stored with the version); required.") var reason: String
    @Option(
        name: .customLong("effective-from"),
        help: "When it takes effect: Unix ms or ISO-8601 (default: at once).")
    var effectiveFrom: String?
    @Flag(name: .customLong("dry-run"), help: "Validate only: store nothing.") var dryRun = false
    @OptionGroup var connection: GatewayOptions

    func run() async throws {
        let address = try RuleSetAddress(arguments, trailing: 1...1, usage: "retain config set SERVICE [RULESET] FILE --reason TEXT")
        let effective = try effectiveFrom.map { try ConfigTime.milliseconds($0, option: "--effective-from") } ?? 0
        let path = address.rest[0]
        let document: Data
        if path == "-" {
            document = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read '\(path)'") }
            document = data
        }
        try await ExitStatus.reporting {
            let answer = try await connection.call(
                Retain_V1_RuleSets.setRuleSet,
                Retain_V1_SetRuleSetRequest(
                    service: address.service, ruleSet: address.ruleSet, document: Array(document), reason: reason,
                    effectiveFromMs: effective, dryRun: dryRun))
            let version = answer.version ?? Retain_V1_RuleSetVersion()
            print((dryRun ? "valid; would store " : "stored ") + ConfigDescription.line(version, latest: 0))
        }
    }
}

/// `retain config diff SERVICE [RULESET] FROM [TO]`: the lines that differ between two versions
/// (TO defaults to the newest).
struct ConfigDiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Show how two versions of a rule set differ (TO: default the newest).")

    @Argument(help: "SERVICE [RULESET] FROM [TO]: version numbers.") var arguments: [String] = []
    @OptionGroup var connection: GatewayOptions

    func run() async throws {
        let address = try RuleSetAddress(arguments, trailing: 1...2, usage: "retain config diff SERVICE [RULESET] FROM [TO]")
        let numbers = try address.rest.map { text in
            guard let number = UInt64(text), number > 0 else { throw ValidationError("'\(text)' is not a version number") }
            return number
        }
        try await ExitStatus.reporting {
            let from = try await document(address, numbers[0])
            let to = try await document(address, numbers.count > 1 ? numbers[1] : 0)
            print("--- \(address.service) version \(from.version)")
            print("+++ \(address.service) version \(to.version)")
            for line in RuleSetDiff.lines(from: from.document, to: to.document) { print(line) }
        }
    }

    /// Version `number` (0: the newest).
    private func document(_ address: RuleSetAddress, _ number: UInt64) async throws -> Retain_V1_RuleSetVersion {
        var number = number
        if number == 0 {
            let list = try await connection.call(
                Retain_V1_RuleSets.listRuleSetVersions,
                Retain_V1_ListRuleSetVersionsRequest(service: address.service, ruleSet: address.ruleSet))
            number = list.versions.last?.version ?? 0
        }
        let answer = try await connection.call(
            Retain_V1_RuleSets.getRuleSet,
            Retain_V1_GetRuleSetRequest(service: address.service, ruleSet: address.ruleSet, version: max(number, 1)))
        return answer.version ?? Retain_V1_RuleSetVersion()
    }
}

/// `retain config history SERVICE [RULESET]`: every version, oldest first; `*` marks the one in
/// force.
struct ConfigHistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "List a rule set's versions; * marks the one in force.")

    @Argument(help: "SERVICE [RULESET].") var arguments: [String] = []
    @Flag(help: "Print the answer as JSON lines, one version a line.") var json = false
    @OptionGroup var connection: GatewayOptions

    func run() async throws {
        let address = try RuleSetAddress(arguments, trailing: 0...0, usage: "retain config history SERVICE [RULESET]")
        try await ExitStatus.reporting {
            let answer = try await connection.call(
                Retain_V1_RuleSets.listRuleSetVersions,
                Retain_V1_ListRuleSetVersionsRequest(service: address.service, ruleSet: address.ruleSet))
            for version in answer.versions {
                if json {
                    print(ConfigDescription.json(version, inForce: version.version == answer.inForceVersion))
                } else {
                    print((version.version == answer.inForceVersion ? "* " : "  ") + ConfigDescription.line(version, latest: 0))
                }
            }
        }
    }
}

/// `retain config rollback SERVICE [RULESET] VERSION`: stores a new version with VERSION's
/// document.
struct ConfigRollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Store a new version that restores VERSION's document.")

    @Argument(help: "SERVICE [RULESET] VERSION.") var arguments: [String] = []
    @Option(help: "Why (default: 'rollback to version N').") var reason: String = ""
    @Option(name: .customLong("effective-from"), help: "When it takes effect: Unix ms or ISO-8601 (default: at once).")
    var effectiveFrom: String?
    @OptionGroup var connection: GatewayOptions

    func run() async throws {
        let address = try RuleSetAddress(arguments, trailing: 1...1, usage: "retain config rollback SERVICE [RULESET] VERSION")
        guard let target = UInt64(address.rest[0]), target > 0 else {
            throw ValidationError("'\(address.rest[0])' is not a version number")
        }
        let effective = try effectiveFrom.map { try ConfigTime.milliseconds($0, option: "--effective-from") } ?? 0
        try await ExitStatus.reporting {
            let answer = try await connection.call(
                Retain_V1_RuleSets.rollbackRuleSet,
                Retain_V1_RollbackRuleSetRequest(
                    service: address.service, ruleSet: address.ruleSet, toVersion: target, reason: reason, effectiveFromMs: effective))
            print("stored " + ConfigDescription.line(answer.version ?? Retain_V1_RuleSetVersion(), latest: 0))
        }
    }
}

/// How the commands describe a version.
enum ConfigDescription {
    /// `growth version 3 by ops, created ..., effective ...: reason`.
    static func line(_ version: Retain_V1_RuleSetVersion, latest: UInt64) -> String {
        var text = "\(version.ruleSet) version \(version.version) by \(version.author), created \(ConfigTime.text(version.createdAtMs))"
        if version.effectiveFromMs != version.createdAtMs { text += ", effective \(ConfigTime.text(version.effectiveFromMs))" }
        if version.rollbackOf != 0 { text += ", rollback of \(version.rollbackOf)" }
        if latest > version.version { text += " (newest: \(latest))" }
        return text + ": \(version.reason)"
    }

    /// One version as a JSON object on one line.
    static func json(_ version: Retain_V1_RuleSetVersion, inForce: Bool) -> String {
        let object: [String: Any] = [
            "rule_set": version.ruleSet, "version": version.version, "author": version.author, "reason": version.reason,
            "created_at_ms": version.createdAtMs, "effective_from_ms": version.effectiveFromMs,
            "rollback_of": version.rollbackOf, "in_force": inForce,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
