import RetainProto

/// Calls of a service that every backend serves for itself (retain.v1.RuleSets), addressed by
/// the request's field 1, `string service` ("profile", "growth", "ledger", "feedback"): the
/// gateway sends each to the named backend service and, when that service has several shards,
/// scatters it by the method's rule: a write to every shard (each must succeed; with replicas,
/// to the leaders), a read to one shard. docs/CONFIG.md, docs/GATEWAY.md.
///
/// Another such service is one more entry in ``rules``: its requests need only the same
/// field 1.
public enum ServiceAddressedCalls {
    /// How each method of the service-addressed services scatters, by path.
    public static let rules: [String: ScatterRule] = [
        Retain_V1_RuleSets.getRuleSet.path: .anyShard,
        Retain_V1_RuleSets.listRuleSetVersions.path: .anyShard,
        Retain_V1_RuleSets.setRuleSet.path: .everyShard,
        Retain_V1_RuleSets.rollbackRuleSet.path: .everyShard,
    ]

    /// The full names of the service-addressed services.
    public static let services: Set<String> = Set(rules.keys.map { String($0.prefix { $0 != "/" }) })

    /// The backend services a request may name, by the name it uses.
    public static let targets: [String: String] = [
        "profile": "retain.v1.Profile", "growth": "retain.v1.Growth", "ledger": "retain.v1.Ledger",
        "feedback": "retain.v1.Feedback",
    ]

    /// Whether calls of `path` are addressed by their `service` field.
    public static func isAddressed(_ path: String) -> Bool {
        services.contains(String(path.prefix { $0 != "/" }))
    }

    /// The full name of the backend service `name` (a request's field 1) names, or nil.
    public static func target(named name: String) -> String? { targets[name] }

    /// Why a name is refused, for the `service` field's error.
    public static func refusal(_ name: String) -> String {
        let known = targets.keys.sorted().joined(separator: ", ")
        return name.isEmpty ? "is required (one of \(known))" : "'\(name)' is not a service (expected one of \(known))"
    }
}
