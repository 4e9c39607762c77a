import Foundation
import RetainProto

extension GrowthRules {
    /// Checks every rule of the configuration; throws naming the first bad entry.
    static func validate(_ configuration: Configuration) throws(ConfigurationError) {
        try validateTiers(configuration.tiers)
        try validateReview(configuration)
        var actions = Set<String>()
        for (index, rule) in configuration.actions.enumerated() {
            let path = "actions[\(index)]"
            guard FieldFormat.isName(rule.action) else {
                throw ConfigurationError("\(path).action", "'\(rule.action)' is not a name (1 to 64 of a-z, 0-9, '_', '.', '-')")
            }
            guard rule.action != "check_in" else {
                throw ConfigurationError("\(path).action", "'check_in' is awarded by check-ins; configure it under check_in")
            }
            guard actions.insert(rule.action).inserted else {
                throw ConfigurationError("\(path).action", "'\(rule.action)' has a rule already")
            }
            try requireAmount(rule.growth ?? 0, "\(path).growth", positive: false)
            try requireAmount(rule.growthPerUnit ?? 0, "\(path).growth_per_unit", positive: false)
            if let unit = rule.unitValue { try requireAmount(unit, "\(path).unit_value", positive: true) }
            guard (rule.growth ?? 0) > 0 || (rule.growthPerUnit ?? 0) > 0 else {
                throw ConfigurationError(path, "gives no growth: set growth or growth_per_unit above 0")
            }
            if let cap = rule.dailyCap { try requireAmount(cap, "\(path).daily_cap", positive: true) }
        }
        if let cap = configuration.dailyTotalCap { try requireAmount(cap, "daily_total_cap", positive: true) }
        if let checkIn = configuration.checkIn {
            try requireAmount(checkIn.growth, "check_in.growth", positive: false)
            var days = Set<UInt32>()
            for (index, bonus) in (checkIn.streakBonuses ?? []).enumerated() {
                let path = "check_in.streak_bonuses[\(index)]"
                guard bonus.days >= 1 else { throw ConfigurationError("\(path).days", "must be at least 1") }
                guard days.insert(bonus.days).inserted else {
                    throw ConfigurationError("\(path).days", "\(bonus.days) has a bonus already")
                }
                try requireAmount(bonus.growth, "\(path).growth", positive: true)
            }
        }
        var taskIDs = Set<String>()
        for (index, task) in (configuration.tasks ?? []).enumerated() {
            let path = "tasks[\(index)]"
            if let problem = FieldFormat.entityIDProblem(task.id) {
                throw ConfigurationError("\(path).id", "\(FieldFormat.quoted(task.id)) \(problem)")
            }
            guard taskIDs.insert(task.id).inserted else { throw ConfigurationError("\(path).id", "'\(task.id)' is used twice") }
            guard !task.title.isEmpty, task.title.utf8.count <= 256 else {
                throw ConfigurationError("\(path).title", "must be 1 to 256 bytes")
            }
            guard FieldFormat.isName(task.action) else {
                throw ConfigurationError("\(path).action", "'\(task.action)' is not a name (1 to 64 of a-z, 0-9, '_', '.', '-')")
            }
            guard (1...10_000).contains(task.target) else { throw ConfigurationError("\(path).target", "must be 1 to 10000") }
            guard period(named: task.period) != nil else {
                throw ConfigurationError("\(path).period", "'\(task.period)' is not one of once, daily, weekly")
            }
            guard FieldFormat.isName(task.reward.asset) else {
                throw ConfigurationError("\(path).reward.asset", "'\(task.reward.asset)' is not an asset name")
            }
            try requireAmount(task.reward.value, "\(path).reward.value", positive: true)
        }
    }

    /// Keep-up: a window of 1 to 365 days when any tier has `keep_growth`; `keep_growth` on
    /// tiers above the lowest, positive.
    private static func validateReview(_ configuration: Configuration) throws(ConfigurationError) {
        if let review = configuration.review {
            guard (1...365).contains(review.windowDays) else {
                throw ConfigurationError("review.window_days", "must be 1 to 365, not \(review.windowDays)")
            }
        }
        for (index, tier) in configuration.tiers.enumerated() {
            guard let keep = tier.keepGrowth else { continue }
            let path = "tiers[\(index)].keep_growth"
            guard index > 0 else { throw ConfigurationError(path, "the lowest tier has no tier below it: it is never reviewed") }
            try requireAmount(keep, path, positive: true)
            guard configuration.review != nil else { throw ConfigurationError(path, "needs review.window_days") }
        }
    }

    private static func validateTiers(_ tiers: [Configuration.Tier]) throws(ConfigurationError) {
        guard !tiers.isEmpty else { throw ConfigurationError("tiers", "at least one tier is needed") }
        guard tiers.count <= 1000 else { throw ConfigurationError("tiers", "at most 1000 tiers") }
        var names = Set<String>()
        for (index, tier) in tiers.enumerated() {
            let path = "tiers[\(index)]"
            guard !tier.name.isEmpty, tier.name.utf8.count <= 64 else {
                throw ConfigurationError("\(path).name", "must be 1 to 64 bytes")
            }
            guard names.insert(tier.name).inserted else { throw ConfigurationError("\(path).name", "'\(tier.name)' is used twice") }
            if index == 0 {
                guard tier.minGrowth == 0 else {
                    throw ConfigurationError("\(path).min_growth", "the lowest tier must start at 0, not \(tier.minGrowth)")
                }
            } else {
                guard tier.minGrowth > tiers[index - 1].minGrowth else {
                    throw ConfigurationError(
                        "\(path).min_growth",
                        "\(tier.minGrowth) must be greater than tiers[\(index - 1)].min_growth (\(tiers[index - 1].minGrowth))")
                }
                try requireAmount(tier.minGrowth, "\(path).min_growth", positive: true)
            }
            var privileges = Set<String>()
            for (privilegeIndex, privilege) in (tier.privileges ?? []).enumerated() {
                let privilegePath = "\(path).privileges[\(privilegeIndex)]"
                guard FieldFormat.isName(privilege.name) else {
                    throw ConfigurationError(
                        "\(privilegePath).name", "'\(privilege.name)' is not a name (1 to 64 of a-z, 0-9, '_', '.', '-')")
                }
                guard privileges.insert(privilege.name).inserted else {
                    throw ConfigurationError("\(privilegePath).name", "'\(privilege.name)' is listed twice in this tier")
                }
                guard !privilege.value.isEmpty, privilege.value.utf8.count <= 256 else {
                    throw ConfigurationError("\(privilegePath).value", "must be 1 to 256 bytes")
                }
                if privilege.name == PointsMultiplier.privilege, PointsMultiplier(privilege.value) == nil {
                    throw ConfigurationError(
                        "\(privilegePath).value",
                        "'\(privilege.value)' is not a points multiplier (a decimal from 1 to 10 with at most 2 decimals, e.g. 1.5)")
                }
                guard (privilege.label ?? "").utf8.count <= 4096 else {
                    throw ConfigurationError("\(privilegePath).label", "must be at most 4096 bytes")
                }
            }
        }
    }

    private static func requireAmount(_ value: Int64, _ path: String, positive: Bool) throws(ConfigurationError) {
        if positive, value <= 0 { throw ConfigurationError(path, "must be greater than 0, not \(value)") }
        if value < 0 { throw ConfigurationError(path, "must not be negative, not \(value)") }
        if value > FieldFormat.maximumAmount { throw ConfigurationError(path, "must be at most 2^53") }
    }

    // MARK: Reading the file

    /// The keys each object of the file may have, by the path of the object (indices removed).
    private static let knownKeys: [String: Set<String>] = [
        "": ["tiers", "actions", "daily_total_cap", "check_in", "tasks", "review"],
        "tiers[]": ["name", "min_growth", "privileges", "keep_growth"],
        "review": ["window_days"],
        "tiers[].privileges[]": ["name", "value", "label"],
        "actions[]": ["action", "growth", "growth_per_unit", "unit_value", "daily_cap"],
        "check_in": ["growth", "streak_bonuses"],
        "check_in.streak_bonuses[]": ["days", "growth", "repeat"],
        "tasks[]": ["id", "title", "action", "target", "period", "reward"],
        "tasks[].reward": ["asset", "value"],
    ]

    /// Refuses keys the configuration does not have, so that a misspelt optional key is an
    /// error rather than a silently missing rule.
    static func checkKeys(_ json: Data) throws(ConfigurationError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json)
        } catch {
            throw ConfigurationError("", "not valid JSON: \(error.localizedDescription)")
        }
        try checkKeys(object, path: "", shape: "")
    }

    private static func checkKeys(_ value: Any, path: String, shape: String) throws(ConfigurationError) {
        if let object = value as? [String: Any] {
            guard let known = knownKeys[shape] else { return }
            for key in object.keys.sorted() {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                guard known.contains(key) else {
                    throw ConfigurationError(childPath, "unknown key (expected one of \(known.sorted().joined(separator: ", ")))")
                }
                try checkKeys(object[key]!, path: childPath, shape: shape.isEmpty ? key : "\(shape).\(key)")
            }
        } else if let array = value as? [Any] {
            for (index, element) in array.enumerated() {
                try checkKeys(element, path: "\(path)[\(index)]", shape: "\(shape)[]")
            }
        }
    }

    /// A decoding error as the path of the bad entry and what was expected.
    static func describe(_ error: DecodingError) -> ConfigurationError {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + snakeCase(key.stringValue)
                }
            }
            return text
        }
        switch error {
        case .typeMismatch(let type, let context):
            return ConfigurationError(path(context.codingPath), "expected \(typeName(type))")
        case .valueNotFound(let type, let context):
            return ConfigurationError(path(context.codingPath), "expected \(typeName(type)), found null")
        case .keyNotFound(let key, let context):
            return ConfigurationError(path(context.codingPath + [key]), "is required")
        case .dataCorrupted(let context):
            return ConfigurationError(path(context.codingPath), context.debugDescription)
        @unknown default:
            return ConfigurationError("", "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int64.Type, is UInt32.Type, is Int.Type: "an integer"
        default: "\(type)"
        }
    }

    private static func snakeCase(_ key: String) -> String {
        var result = ""
        for character in key {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
