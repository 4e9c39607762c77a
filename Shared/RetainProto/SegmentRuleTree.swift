public import RetainWire

/// A validated ``Retain_V1_SegmentRule`` flattened for evaluation, shared by Profile (which
/// stores rules and answers their Profile predicates) and the gateway (which answers the level
/// and balance predicates and combines the answers), so that both number the predicates alike.
///
/// Predicates are numbered depth-first, children in order (at most ``maximumPredicates``), and
/// the tree is evaluated in three-valued logic: a predicate one side cannot answer is `nil`
/// (unknown), `all` is false when a child is false, `any` true when a child is true, `none` the
/// negation of `any`.
public struct SegmentRuleTree: Sendable {
    /// Most predicates in one rule (a bit each in ``Retain_V1_SegmentCandidate/truePredicates``).
    public static let maximumPredicates = 64
    /// Most levels of nesting.
    public static let maximumDepth = 8

    /// Which service answers a predicate.
    public enum Owner: Sendable, Equatable {
        case profile, growth, ledger
    }

    /// One node: a combination of children (node indices) or a predicate (its number).
    public enum Node: Sendable, Equatable {
        case all([Int])
        case any([Int])
        case none([Int])
        case predicate(Int)
    }

    /// The rule as given.
    public let rule: Retain_V1_SegmentRule
    /// The nodes; the root is node 0.
    public let nodes: [Node]
    /// The predicate nodes in depth-first order (each sets exactly one predicate field).
    public let predicates: [Retain_V1_SegmentRule]

    /// Validates `rule` and flattens it.
    ///
    /// - Parameter field: The rule's field path in the request, for error messages
    ///   (e.g. "segment.rule").
    /// - Throws: INVALID_ARGUMENT naming the offending field, e.g.
    ///   "segment.rule.all[1].activity.days".
    public init(_ rule: Retain_V1_SegmentRule?, field: String) throws(RPCError) {
        guard let rule else { throw .invalidArgument(field: field, "is required") }
        var nodes: [Node] = []
        var predicates: [Retain_V1_SegmentRule] = []
        try Self.flatten(rule, field: field, depth: 1, nodes: &nodes, predicates: &predicates)
        self.rule = rule
        self.nodes = nodes
        self.predicates = predicates
    }

    private static func flatten(
        _ rule: Retain_V1_SegmentRule, field: String, depth: Int, nodes: inout [Node], predicates: inout [Retain_V1_SegmentRule]
    ) throws(RPCError) {
        let set = setFields(rule)
        guard set.count == 1 else {
            throw .invalidArgument(
                field: field,
                set.isEmpty
                    ? "must set one of all, any, none or a predicate"
                    : "must set exactly one of all, any, none or a predicate, not \(set.joined(separator: " and "))")
        }
        let name = set[0]
        let children: [Retain_V1_SegmentRule]? =
            switch name {
            case "all": rule.all
            case "any": rule.any
            case "none": rule.none
            default: nil
            }
        guard let children else {
            try validatePredicate(rule, field: "\(field).\(name)")
            guard predicates.count < maximumPredicates else {
                throw .invalidArgument(field: field, "a rule holds at most \(maximumPredicates) predicates")
            }
            nodes.append(.predicate(predicates.count))
            predicates.append(rule)
            return
        }
        guard depth < maximumDepth else {
            throw .invalidArgument(field: "\(field).\(name)", "a rule nests at most \(maximumDepth) levels")
        }
        guard children.count <= maximumPredicates else {
            throw .invalidArgument(field: "\(field).\(name)", "at most \(maximumPredicates) children")
        }
        let index = nodes.count
        nodes.append(.all([]))
        var indices: [Int] = []
        for (position, child) in children.enumerated() {
            indices.append(nodes.count)
            try flatten(child, field: "\(field).\(name)[\(position)]", depth: depth + 1, nodes: &nodes, predicates: &predicates)
        }
        nodes[index] =
            switch name {
            case "all": .all(indices)
            case "any": .any(indices)
            default: .none(indices)
            }
    }

    /// The names of the fields `rule` sets.
    private static func setFields(_ rule: Retain_V1_SegmentRule) -> [String] {
        var set: [String] = []
        if !rule.all.isEmpty { set.append("all") }
        if !rule.any.isEmpty { set.append("any") }
        if !rule.none.isEmpty { set.append("none") }
        if rule.attributeEquals != nil { set.append("attribute_equals") }
        if rule.attributeRange != nil { set.append("attribute_range") }
        if rule.tag != nil { set.append("tag") }
        if rule.channel != nil { set.append("channel") }
        if rule.stage != nil { set.append("stage") }
        if rule.activity != nil { set.append("activity") }
        if rule.purchaseTotal != nil { set.append("purchase_total") }
        if rule.level != nil { set.append("level") }
        if rule.balance != nil { set.append("balance") }
        if rule.eventProperty != nil { set.append("event_property") }
        return set
    }

    /// Who answers predicate `number`.
    public func owner(of number: Int) -> Owner {
        let predicate = predicates[number]
        if predicate.level != nil { return .growth }
        if predicate.balance != nil { return .ledger }
        return .profile
    }

    /// Whether every predicate is Profile's.
    public var profileOnly: Bool { predicates.indices.allSatisfy { owner(of: $0) == .profile } }

    /// The rule's value given each predicate's (nil: unknown), in three-valued logic.
    @inline(__always)
    public func evaluate(_ value: (Int) -> Bool?) -> Bool? {
        evaluate(node: 0, value)
    }

    private func evaluate(node: Int, _ value: (Int) -> Bool?) -> Bool? {
        if case .predicate(let number) = nodes[node], nodes.count == 1 { return value(number) }
        switch nodes[node] {
        case .predicate(let number):
            return value(number)
        case .all(let children):
            var unknown = false
            for child in children {
                switch evaluate(node: child, value) {
                case false?: return false
                case nil: unknown = true
                case true?: continue
                }
            }
            return unknown ? nil : true
        case .any(let children), .none(let children):
            var result: Bool? = false
            for child in children {
                switch evaluate(node: child, value) {
                case true?:
                    result = true
                case nil: result = nil
                case false?: continue
                }
                if result == true { break }
            }
            if case .none = nodes[node] { return result.map { !$0 } }
            return result
        }
    }

    /// The column name of predicate `number` (see ListSavedSegmentMembersResponse.columns).
    public func column(_ number: Int) -> String {
        let predicate = predicates[number]
        if let condition = predicate.attributeEquals { return "attribute:\(condition.key)" }
        if let condition = predicate.attributeRange { return "attribute:\(condition.key)" }
        if let condition = predicate.tag { return "tag:\(condition.tag)" }
        if predicate.channel != nil { return "channel" }
        if predicate.stage != nil { return "stage" }
        if let condition = predicate.activity {
            let window = condition.days == 0 ? "all" : "\(condition.days)d"
            if condition.measure == .activeDays { return "active_days:\(window)" }
            return "activity:\(condition.kind.isEmpty ? "any" : condition.kind):\(window)"
        }
        if let condition = predicate.purchaseTotal { return "purchase_total:\(condition.asset)" }
        if let condition = predicate.level {
            return condition.hasMinLevel || condition.hasMaxLevel ? "level" : "growth_points"
        }
        if let condition = predicate.balance { return "balance:\(condition.asset)" }
        if let condition = predicate.eventProperty {
            let window = condition.days == 0 ? "all" : "\(condition.days)d"
            let property = condition.key.isEmpty ? "" : ":\(condition.key)"
            return "event:\(condition.kind.isEmpty ? "any" : condition.kind)\(property):\(window)"
        }
        return "predicate\(number)"
    }

    // MARK: Validation of one predicate

    private static func validatePredicate(_ rule: Retain_V1_SegmentRule, field: String) throws(RPCError) {
        if let condition = rule.attributeEquals {
            try FieldFormat.requireName(condition.key, field: "\(field).key")
            guard (1...100).contains(condition.values.count) else {
                throw .invalidArgument(field: "\(field).values", "must hold 1 to 100 values")
            }
            for (position, value) in condition.values.enumerated() where value.utf8.count > 1024 {
                throw .invalidArgument(field: "\(field).values[\(position)]", "is longer than 1024 bytes")
            }
        } else if let condition = rule.attributeRange {
            try FieldFormat.requireName(condition.key, field: "\(field).key")
            guard condition.hasMin || condition.hasMax else { throw .invalidArgument(field: field, "needs has_min or has_max") }
            guard !condition.hasMin || condition.minValue.isFinite, !condition.hasMax || condition.maxValue.isFinite else {
                throw .invalidArgument(field: field, "bounds must be finite numbers")
            }
            if condition.hasMin, condition.hasMax, condition.minValue > condition.maxValue {
                throw .invalidArgument(field: "\(field).max_value", "must not be below min_value")
            }
        } else if let condition = rule.tag {
            try FieldFormat.requireName(condition.tag, field: "\(field).tag")
        } else if let condition = rule.channel {
            guard (1...100).contains(condition.channels.count) else {
                throw .invalidArgument(field: "\(field).channels", "must hold 1 to 100 channels")
            }
            for (position, channel) in condition.channels.enumerated() {
                try FieldFormat.requireName(channel, field: "\(field).channels[\(position)]")
            }
        } else if let condition = rule.stage {
            guard !condition.stages.isEmpty else { throw .invalidArgument(field: "\(field).stages", "must hold 1 or more stages") }
            for (position, stage) in condition.stages.enumerated() where stage == .unspecified || stage.protoValueName == nil {
                throw .invalidArgument(field: "\(field).stages[\(position)]", "unknown lifecycle stage \(stage.rawValue)")
            }
        } else if let condition = rule.activity {
            try validate(condition, field: field)
        } else if let condition = rule.purchaseTotal {
            try validate(condition, field: field)
        } else if let condition = rule.level {
            guard condition.hasMinLevel || condition.hasMaxLevel || condition.hasMinPoints || condition.hasMaxPoints else {
                throw .invalidArgument(field: field, "needs at least one of has_min_level, has_max_level, has_min_points, has_max_points")
            }
            if condition.hasMinLevel, condition.hasMaxLevel, condition.minLevel > condition.maxLevel {
                throw .invalidArgument(field: "\(field).max_level", "must not be below min_level")
            }
            if condition.hasMinPoints, condition.hasMaxPoints, condition.minPoints > condition.maxPoints {
                throw .invalidArgument(field: "\(field).max_points", "must not be below min_points")
            }
        } else if let condition = rule.eventProperty {
            try validate(condition, field: field)
        } else if let condition = rule.balance {
            try FieldFormat.requireName(condition.asset, field: "\(field).asset")
            guard condition.hasMin || condition.hasMax else { throw .invalidArgument(field: field, "needs has_min or has_max") }
            if condition.hasMin, condition.hasMax, condition.minValue > condition.maxValue {
                throw .invalidArgument(field: "\(field).max_value", "must not be below min_value")
            }
        }
    }

    /// The activity kinds Profile counts one by one (an ActivityCondition's `kind` other than "").
    public static let countedKinds: Set<String> = ["login", "visit", "purchase", "share", "post", "check_in", "invite"]

    /// Validates an event-property condition at `field`.
    public static func validate(_ condition: Retain_V1_EventPropertyCondition, field: String) throws(RPCError) {
        guard !condition.kind.isEmpty || !condition.source.isEmpty || !condition.key.isEmpty else {
            throw .invalidArgument(field: field, "needs at least one of kind, source and key")
        }
        if !condition.kind.isEmpty { try FieldFormat.requireName(condition.kind, field: "\(field).kind") }
        if !condition.source.isEmpty { try FieldFormat.requireName(condition.source, field: "\(field).source") }
        if !condition.key.isEmpty { try FieldFormat.requireName(condition.key, field: "\(field).key") }
        guard condition.values.isEmpty || !condition.key.isEmpty else {
            throw .invalidArgument(field: "\(field).values", "needs a key")
        }
        guard condition.values.count <= 100 else { throw .invalidArgument(field: "\(field).values", "must hold at most 100 values") }
        for (position, value) in condition.values.enumerated() where value.utf8.count > 256 {
            throw .invalidArgument(field: "\(field).values[\(position)]", "is longer than 256 bytes")
        }
        guard condition.days <= 400 else { throw .invalidArgument(field: "\(field).days", "must be 0 to 400, not \(condition.days)") }
        guard condition.minCount <= 32 else {
            throw .invalidArgument(field: "\(field).min_count", "must be 0 to 32 (32 events are kept per user), not \(condition.minCount)")
        }
    }

    /// Validates an activity condition (of a rule or of a one-off SegmentFilter) at `field`.
    public static func validate(_ condition: Retain_V1_ActivityCondition, field: String) throws(RPCError) {
        guard condition.kind.isEmpty || countedKinds.contains(condition.kind) else {
            throw .invalidArgument(
                field: "\(field).kind",
                "must be empty (every kind) or one of \(countedKinds.sorted().joined(separator: ", ")), not \(FieldFormat.quoted(condition.kind))"
            )
        }
        switch condition.measure {
        case .events:
            guard condition.days <= 56 else {
                throw .invalidArgument(
                    field: "\(field).days", "events are counted per day for 56 days: 0 (all time) to 56, not \(condition.days)")
            }
            if condition.days > 0, !condition.kind.isEmpty, condition.kind != "purchase" {
                throw .invalidArgument(
                    field: "\(field).days",
                    "Profile counts \(condition.kind) events over all time only (days = 0); per day it counts every kind together and purchases"
                )
            }
        case .activeDays:
            guard condition.kind.isEmpty else {
                throw .invalidArgument(field: "\(field).kind", "active days count every kind: must be empty")
            }
            guard (1...256).contains(condition.days) else {
                throw .invalidArgument(field: "\(field).days", "active days are kept for 256 days: 1 to 256, not \(condition.days)")
            }
        default:
            throw .invalidArgument(field: "\(field).measure", "unknown measure \(condition.measure.rawValue)")
        }
        if condition.hasMax, condition.maxCount < condition.minCount {
            throw .invalidArgument(field: "\(field).max_count", "must not be below min_count")
        }
    }

    /// Validates a purchase-total condition at `field`.
    public static func validate(_ condition: Retain_V1_PurchaseTotalCondition, field: String) throws(RPCError) {
        try FieldFormat.requireName(condition.asset, field: "\(field).asset")
        guard condition.hasMin || condition.hasMax else { throw .invalidArgument(field: field, "needs has_min or has_max") }
        if condition.hasMin, condition.hasMax, condition.minValue > condition.maxValue {
            throw .invalidArgument(field: "\(field).max_value", "must not be below min_value")
        }
    }
}
