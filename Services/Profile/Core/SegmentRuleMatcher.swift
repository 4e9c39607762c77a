import RetainState
package import RetainProto

/// A saved segment's rule (``SegmentRuleTree``) compiled against a state: each Profile predicate
/// becomes a one-condition ``SegmentFilter`` compiled by the one ``SegmentMatcher``, so that the
/// saved segments and the one-off filters of CountSegment and ListSegment match alike. Level
/// and balance predicates are not Profile's: they stay unknown here and the gateway decides them.
package struct SegmentRuleMatcher {
    /// The rule.
    package let tree: SegmentRuleTree
    /// One matcher per predicate (another service's predicates get one that is never asked).
    private var matchers: [SegmentMatcher] = []
    /// Bit i set for each Profile predicate i.
    private var profileBits: UInt64 = 0
    /// Predicate number -> the symbol it reads (attribute key, tag, purchase asset), or nil.
    private var symbols: [Int32?] = []
    /// Predicate number -> its event-property matcher, for those predicates.
    private var eventMatchers: [Int: EventFactMatcher] = [:]
    /// The users' event facts, when a predicate asks about them.
    private let eventFacts: [Int32: [Retain_V1_ActivityEvent]]
    private let asOf: Int64
    private let asOfDay: Int32
    private let evaluator: LifecycleEvaluator

    /// Compiles `tree` for `state`, as of `asOf`.
    package init(_ tree: SegmentRuleTree, state: borrowing ProfileState, asOf: Int64, evaluator: LifecycleEvaluator) {
        self.tree = tree
        self.asOf = asOf
        self.asOfDay = state.calendar.day(of: asOf)
        self.evaluator = evaluator
        self.eventFacts = tree.predicates.contains { $0.eventProperty != nil } ? state.eventFacts : [:]
        for (number, predicate) in tree.predicates.enumerated() {
            guard tree.owner(of: number) == .profile else {
                matchers.append(SegmentMatcher(Retain_V1_SegmentFilter(), state: state, asOf: asOf, evaluator: evaluator))
                symbols.append(nil)
                continue
            }
            profileBits |= 1 << UInt64(number)
            var filter = Retain_V1_SegmentFilter()
            var symbolName: String?
            if let condition = predicate.attributeEquals {
                filter.attributesEqual = [condition]
                symbolName = condition.key
            } else if let condition = predicate.attributeRange {
                filter.attributeRanges = [condition]
                symbolName = condition.key
            } else if let condition = predicate.tag {
                filter.tagsAll = [condition.tag]
                symbolName = condition.tag
            } else if let condition = predicate.channel {
                filter.channels = condition.channels
            } else if let condition = predicate.stage {
                filter.stages = condition.stages
            } else if let condition = predicate.activity {
                filter.activity = [condition]
            } else if let condition = predicate.purchaseTotal {
                filter.purchaseTotals = [condition]
                symbolName = condition.asset
            } else if let condition = predicate.eventProperty {
                eventMatchers[number] = EventFactMatcher(condition, asOf: asOf, calendar: state.calendar)
            }
            let matcher = SegmentMatcher(filter, state: state, asOf: asOf, evaluator: evaluator)
            matchers.append(matcher)
            symbols.append(symbolName.flatMap { state.symbols.symbol($0) })
        }
    }

    /// The rule's value for the user — true, false, or nil when the other services' predicates
    /// decide — and the bits of the Profile predicates that hold. Predicates are matched lazily,
    /// in the rule's order, only as far as the three-valued evaluation needs them (an `all`
    /// stops at a false child, an `any` at a true one): bits the evaluation did not need are 0,
    /// which gives the same value when the gateway evaluates the rule again with the level and
    /// balance predicates known.
    @inline(__always)
    package func verdict(_ user: UnsafePointer<UserRecord>, index: Int32) -> (value: Bool?, bits: UInt64) {
        var bits: UInt64 = 0
        let profileBits = profileBits
        let value = matchers.withUnsafeBufferPointer { matchers in
            tree.evaluate { number in
                let bit: UInt64 = 1 << UInt64(number)
                guard profileBits & bit != 0 else { return nil }
                if let events = eventMatchers[number] {
                    guard events.matches(eventFacts[index] ?? []) else { return false }
                    bits |= bit
                    return true
                }
                guard !matchers[number].matchesNothing, matchers[number].matches(user) else { return false }
                bits |= bit
                return true
            }
        }
        return (value, bits)
    }

    /// What each Profile predicate tested for the user ("" for another service's).
    package func values(_ user: UnsafePointer<UserRecord>, index: Int32, state: borrowing ProfileState) -> [String] {
        tree.predicates.enumerated().map { number, predicate in
            guard profileBits & (1 << UInt64(number)) != 0 else { return "" }
            if let events = eventMatchers[number] { return String(events.count(eventFacts[index] ?? [])) }
            if predicate.attributeEquals != nil || predicate.attributeRange != nil {
                guard let key = symbols[number] else { return "" }
                return user.pointee.attribute(key) ?? ""
            }
            if predicate.tag != nil {
                guard let tag = symbols[number] else { return "false" }
                return user.pointee.hasTag(tag) ? "true" : "false"
            }
            if predicate.channel != nil { return state.symbols[user.pointee.channel] }
            if predicate.stage != nil {
                guard user.pointee.registeredAtMs <= asOf else { return "" }
                let stage = evaluator.evaluate(user.pointee.activity, day: asOfDay, dayIsOver: false).stage
                return Self.stageName(stage)
            }
            if let condition = predicate.activity {
                return String(SegmentMatcher.count(condition, of: user.pointee.activity, asOfDay: asOfDay))
            }
            if predicate.purchaseTotal != nil {
                guard let asset = symbols[number] else { return "0" }
                return String(SegmentMatcher.purchaseTotal(user, asset: asset))
            }
            return ""
        }
    }

    /// "active" for LIFECYCLE_STAGE_ACTIVE.
    package static func stageName(_ stage: Retain_V1_LifecycleStage) -> String {
        stage.unprefixedName?.lowercased() ?? "\(stage.rawValue)"
    }
}
