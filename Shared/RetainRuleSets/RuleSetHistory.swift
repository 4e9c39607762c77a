public import RetainProto

/// One rule set's versions, kept inside a service's state (so logged, snapshotted and
/// replicated with it), each with its rules compiled once when it is applied.
///
/// The rules in force at time T are those of the newest version whose `effective_from_ms` is at
/// or before T. A write decides with ``rulesForDecision(now:)``: the version in force at the
/// write's clock time, never earlier than the newest version's creation, so that a version set
/// "at once" governs every write logged after it even when that write read its clock a moment
/// before.
public struct RuleSetHistory<Rules: RuleSetRules>: Sendable {
    /// Every version, oldest first (version n at index n - 1).
    public private(set) var versions: [Retain_V1_RuleSetVersion] = []
    /// The compiled rules of each version, by the same index.
    private var compiled: [Rules] = []

    /// An empty history.
    public init() {}

    /// The rule set's name.
    public var name: String { Rules.ruleSetName }

    /// The newest version, whether or not it is in force yet.
    public var latest: Retain_V1_RuleSetVersion? { versions.last }

    /// Whether no version was stored yet.
    public var isEmpty: Bool { versions.isEmpty }

    /// The version numbered `number`.
    public func version(_ number: UInt64) -> Retain_V1_RuleSetVersion? {
        guard number >= 1, number <= UInt64(versions.count) else { return nil }
        return versions[Int(number - 1)]
    }

    /// The index of the version in force at `ms`: the newest whose effective time has come.
    private func index(inForceAt ms: Int64) -> Int? {
        versions.lastIndex { $0.effectiveFromMs <= ms }
    }

    /// The version in force at `ms`, or nil when none is.
    public func inForce(at ms: Int64) -> Retain_V1_RuleSetVersion? {
        index(inForceAt: ms).map { versions[$0] }
    }

    /// The rules in force at `ms`, or nil when no version is.
    public func rules(at ms: Int64) -> Rules? {
        index(inForceAt: ms).map { compiled[$0] }
    }

    /// Since when the rules have satisfied `condition` without a break up to the version in force
    /// at `now`: the earliest effective time among the versions, going back by number from that
    /// one, whose rules all satisfy it. Nil when the rules in force at `now` do not (or none is).
    public func runStart(at now: Int64, where condition: (Rules) -> Bool) -> Int64? {
        guard var index = index(inForceAt: now), condition(compiled[index]) else { return nil }
        var start = versions[index].effectiveFromMs
        while index > 0, condition(compiled[index - 1]) {
            index -= 1
            start = min(start, versions[index].effectiveFromMs)
        }
        return start
    }

    /// The time a write at the clock time `now` decides by: `now`, but never before the newest
    /// version's creation (log order and rule order agree).
    public func decisionTime(now: Int64) -> Int64 {
        max(now, versions.last?.createdAtMs ?? .min)
    }

    /// The rules a write at `now` decides with, or `fallback` (the configuration file's rules)
    /// while the history is empty.
    public func rulesForDecision(now: Int64, fallback: Rules) -> Rules {
        rules(at: decisionTime(now: now)) ?? fallback
    }

    // MARK: Applying versions

    /// Adds a logged version: it must be the next number of this rule set, and its document must
    /// compile (it was validated before it was logged). Leaves the history untouched on error.
    public mutating func apply(_ version: Retain_V1_RuleSetVersion) throws(RuleSetError) {
        guard version.ruleSet == name else {
            throw RuleSetError.malformedEntry("a version of rule set '\(version.ruleSet)' in the state of '\(name)'")
        }
        guard version.version == UInt64(versions.count) + 1 else {
            throw RuleSetError.malformedEntry(
                "rule set '\(name)' version \(version.version) out of sequence (expected \(versions.count + 1))")
        }
        let rules: Rules
        do {
            rules = try Rules(ruleSetDocument: version.document)
        } catch {
            throw RuleSetError.malformedEntry("rule set '\(name)' version \(version.version) does not compile: \(error)")
        }
        versions.append(version)
        compiled.append(rules)
    }

    /// Replaces the history with the versions a snapshot holds, oldest first.
    public mutating func restore(_ stored: [Retain_V1_RuleSetVersion]) throws(RuleSetError) {
        var restored = RuleSetHistory()
        for version in stored where version.ruleSet == name { try restored.apply(version) }
        self = restored
    }
}
