import Foundation
@testable import GrowthCore
import GrowthService
import RetainProto
import Testing

@Suite("growth configuration")
struct GrowthRulesTests {
    static let configFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Services/Growth/Config/growth.json")

    func error(_ json: String) -> String? {
        do {
            _ = try GrowthRules(json: Data(json.utf8))
            return nil
        } catch {
            return error.description
        }
    }

    let validTiers = #""tiers": [{"name": "Bronze", "min_growth": 0}, {"name": "Silver", "min_growth": 100}]"#

    @Test("the shipped configuration file is valid and equals the built-in standard rules")
    func shippedFile() throws {
        let rules = try GrowthRules.load(path: Self.configFile.path)
        #expect(rules.configuration == GrowthRules.Configuration.standard)
        #expect(rules.version == GrowthRules.standard.version)
        #expect(rules.tiers.map(\.level) == [1, 2, 3, 4, 5])
        #expect(
            rules.tiers[2].privileges.contains(
                Retain_V1_Privilege(
                    name: "free_shipping", value: "2/month",
                    label: "Free shipping twice a month")))
    }

    @Test("a valid file loads, with levels numbered from 1 and optional parts defaulted")
    func minimal() throws {
        let rules = try GrowthRules(json: Data(#"{\#(validTiers), "actions": [{"action": "login", "growth": 5}]}"#.utf8))
        #expect(rules.tiers.map(\.name) == ["Bronze", "Silver"])
        #expect(rules.level(for: 99) == 1 && rules.level(for: 100) == 2 && rules.level(for: 1_000_000) == 2)
        #expect(rules.tasks.isEmpty && rules.streakBonus(days: 3) == 0)
    }

    @Test("bad tiers are refused naming the entry")
    func badTiers() {
        #expect(error(#"{"tiers": [], "actions": []}"#) == "tiers: at least one tier is needed")
        #expect(
            error(#"{"tiers": [{"name": "A", "min_growth": 5}], "actions": []}"#)
                == "tiers[0].min_growth: the lowest tier must start at 0, not 5")
        #expect(
            error(
                #"{"tiers": [{"name": "A", "min_growth": 0}, {"name": "B", "min_growth": 10}, {"name": "C", "min_growth": 10}], "actions": []}"#
            )
                == "tiers[2].min_growth: 10 must be greater than tiers[1].min_growth (10)")
        #expect(
            error(#"{"tiers": [{"name": "A", "min_growth": 0}, {"name": "A", "min_growth": 10}], "actions": []}"#)
                == "tiers[1].name: 'A' is used twice")
        #expect(
            error(#"{"tiers": [{"name": "A", "min_growth": 0, "privileges": [{"name": "Free Shipping", "value": "1"}]}], "actions": []}"#)?
                .hasPrefix("tiers[0].privileges[0].name: 'Free Shipping' is not a name") == true)
        #expect(
            error(
                #"{"tiers": [{"name": "A", "min_growth": 0, "privileges": [{"name": "points_multiplier", "value": "x2"}]}], "actions": []}"#
            )
                == "tiers[0].privileges[0].value: 'x2' is not a points multiplier (a decimal from 1 to 10 with at most 2 decimals, e.g. 1.5)"
        )
    }

    @Test("bad actions, caps, bonuses and tasks are refused naming the entry")
    func badRules() {
        #expect(
            error(#"{\#(validTiers), "actions": [{"action": "login", "growth": 5}, {"action": "login", "growth": 1}]}"#)
                == "actions[1].action: 'login' has a rule already")
        #expect(
            error(#"{\#(validTiers), "actions": [{"action": "login", "growth": 5, "daily_cap": 0}]}"#)
                == "actions[0].daily_cap: must be greater than 0, not 0")
        #expect(
            error(#"{\#(validTiers), "actions": [{"action": "login"}]}"#)
                == "actions[0]: gives no growth: set growth or growth_per_unit above 0")
        #expect(error(#"{\#(validTiers), "actions": [{"action": "check_in", "growth": 1}]}"#)?.hasPrefix("actions[0].action:") == true)
        #expect(
            error(#"{\#(validTiers), "actions": [], "check_in": {"growth": 5, "streak_bonuses": [{"days": 0, "growth": 1}]}}"#)
                == "check_in.streak_bonuses[0].days: must be at least 1")
        #expect(
            error(
                #"{\#(validTiers), "actions": [], "tasks": [{"id": "t", "title": "T", "action": "login", "target": 1, "period": "monthly", "reward": {"asset": "points", "value": 1}}]}"#
            )
                == "tasks[0].period: 'monthly' is not one of once, daily, weekly")
        #expect(
            error(
                #"{\#(validTiers), "actions": [], "tasks": [{"id": "t", "title": "T", "action": "login", "target": 0, "period": "daily", "reward": {"asset": "points", "value": 1}}]}"#
            )
                == "tasks[0].target: must be 1 to 10000")
    }

    @Test("unknown keys, wrong types and missing keys are refused naming the entry")
    func badShape() {
        #expect(
            error(#"{\#(validTiers), "actions": [{"action": "login", "growth": 5, "daily_cpa": 3}]}"#)?
                .hasPrefix("actions[0].daily_cpa: unknown key") == true)
        #expect(
            error(#"{\#(validTiers), "actions": [{"action": "login", "growth": "five"}]}"#)
                == "actions[0].growth: expected an integer")
        #expect(error(#"{"tiers": [{"name": "A"}], "actions": []}"#) == "tiers[0].min_growth: is required")
        #expect(error("{not json") != nil)
    }

    @Test("loading names the file; a missing file is an error, not the defaults")
    func loading() throws {
        #expect(throws: ConfigurationError.self) { try GrowthRules.load(path: "/nonexistent/growth.json") }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("growth-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(#"{"tiers": [{"name": "A", "min_growth": 1}], "actions": []}"#.utf8).write(to: url)
        do {
            _ = try GrowthRules.load(path: url.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("tiers[0].min_growth: the lowest tier must start at 0"))
            #expect(error.description.contains(url.path))
        }
    }
}
