public import ArgumentParser
import Foundation
import NIOCore
import RetainProto
import RetainRPC

/// `retain config`: reads and changes the services' live rule sets (retain.v1.RuleSets) through
/// the gateway, with an API key: get, set, diff, history, rollback. docs/CONFIG.md.
public struct ConfigCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Read and change live rule sets: get, set, diff, history, rollback.",
        subcommands: [
            ConfigGetCommand.self, ConfigSetCommand.self, ConfigDiffCommand.self, ConfigHistoryCommand.self,
            ConfigRollbackCommand.self,
        ])

    public init() {}
}

/// The positional arguments `SERVICE [RULESET] [...]`: the service, then the rule set when one
/// more argument is given than the subcommand needs after it.
struct RuleSetAddress {
    static let services = ["feedback", "growth", "ledger", "profile"]

    let service: String
    let ruleSet: String
    /// The arguments after the service and rule set.
    let rest: [String]

    /// Reads `arguments`: the service, an optional rule set, then exactly `trailing` arguments.
    init(_ arguments: [String], trailing: ClosedRange<Int>, usage: String) throws {
        guard let service = arguments.first else { throw ValidationError("missing SERVICE (usage: \(usage))") }
        guard Self.services.contains(service) else {
            throw ValidationError("'\(service)' is not a service (expected one of \(Self.services.joined(separator: ", ")))")
        }
        var rest = Array(arguments.dropFirst())
        var ruleSet = ""
        if rest.count > trailing.upperBound || (rest.count > trailing.lowerBound && Int(rest[0]) == nil && !Self.isPath(rest[0])) {
            ruleSet = rest.removeFirst()
        }
        guard trailing.contains(rest.count) else { throw ValidationError("wrong number of arguments (usage: \(usage))") }
        self.service = service
        self.ruleSet = ruleSet
        self.rest = rest
    }

    /// Whether an argument looks like a file rather than a rule set's name.
    private static func isPath(_ argument: String) -> Bool {
        argument == "-" || argument.contains("/") || argument.contains(".")
    }
}

/// A time given as Unix ms or ISO-8601 (`2026-12-06T21:00:00Z`, fractions and offsets allowed).
struct ConfigTime {
    /// Unix ms of `text`.
    static func milliseconds(_ text: String, option: String) throws -> Int64 {
        if let ms = Int64(text), ms >= 0 { return ms }
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        throw ValidationError("\(option) '\(text)' is neither Unix ms nor an ISO-8601 time such as 2026-12-06T21:00:00Z")
    }

    /// `ms` as ISO-8601 UTC with milliseconds.
    static func text(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
