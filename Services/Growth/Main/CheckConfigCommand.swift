import ArgumentParser
import Foundation
import GrowthCore
import GrowthService
import RetainProto

/// `retain-growth check-config FILE`: validates a configuration file and prints its tiers.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Validate a growth configuration file.")

    @Argument(help: "The configuration file (JSON).")
    var path: String

    func run() throws {
        let rules: GrowthRules
        do {
            rules = try GrowthRules.load(path: path)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode.failure
        }
        print("\(path): valid (version \(rules.version))")
        for tier in rules.tiers {
            print(
                "  level \(tier.level) \(tier.name) from \(tier.minGrowth): \(tier.privileges.map { "\($0.name)=\($0.value)" }.joined(separator: ", "))"
            )
        }
        print("  \(rules.configuration.actions.count) action rules, \(rules.tasks.count) tasks")
    }
}
