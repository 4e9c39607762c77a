import RetainProto

/// Calls of a service that every backend serves for itself (retain.v1.RuleSets; retain.v1.Webhooks
/// by all but the ledger), addressed by the request's field 1, `string service` ("profile",
/// "growth", "ledger", "feedback"): the
/// gateway sends each to the named backend service and, when that service has several shards,
/// scatters it by the method's rule: a write to every shard (each must succeed; with replicas,
/// to the leaders), a read to one shard, and the webhooks' lists merged across shards.
/// docs/CONFIG.md, docs/WEBHOOKS.md, docs/GATEWAY.md.
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
        Retain_V1_Webhooks.createSubscription.path: .webhookSubscribe,
        Retain_V1_Webhooks.listSubscriptions.path: .webhookSubscriptions,
        Retain_V1_Webhooks.deleteSubscription.path: .webhookDelete,
        Retain_V1_Webhooks.listDeliveries.path: .webhookDeliveries,
        Retain_V1_Webhooks.listDeadLetters.path: .webhookDeadLetters,
        Retain_V1_Webhooks.redeliver.path: .webhookRedeliver,
    ]

    /// The names a request of each service-addressed service may give, when not every backend
    /// serves it (the ledger sends no webhooks).
    static let servedBy: [String: Set<String>] = ["retain.v1.Webhooks": ["profile", "growth", "feedback"]]

    /// The full names of the service-addressed services.
    public static let services: Set<String> = Set(rules.keys.map { String($0.prefix { $0 != "/" }) })

    /// The backend services a request may name, by the name it uses.
    public static let targets: [String: String] = [
        "profile": "retain.v1.Profile", "growth": "retain.v1.Growth", "ledger": "retain.v1.Ledger",
        "feedback": "retain.v1.Feedback",
    ]

    /// Whether calls of `path` are addressed by their `service` field.
    public static func isAddressed(_ path: String) -> Bool {
        // The service part found in the UTF-8 bytes: walking the path by Characters cost
        // thousands of instructions per forwarded call.
        guard let slash = path.utf8.firstIndex(of: UInt8(ascii: "/")) else { return services.contains(path) }
        return services.contains(String(path[..<slash]))
    }

    /// The full name of the backend service `name` (a request's field 1) names for a call of
    /// `path`, or nil when it names none that serves the call.
    public static func target(named name: String, for path: String) -> String? {
        guard let target = targets[name] else { return nil }
        if let served = servedBy[String(path.prefix { $0 != "/" })], !served.contains(name) { return nil }
        return target
    }

    /// Why a name is refused for a call of `path`, for the `service` field's error.
    public static func refusal(_ name: String, for path: String) -> String {
        let names = servedBy[String(path.prefix { $0 != "/" })] ?? Set(targets.keys)
        let known = names.sorted().joined(separator: ", ")
        return name.isEmpty ? "is required (one of \(known))" : "'\(name)' is not a service (expected one of \(known))"
    }
}
