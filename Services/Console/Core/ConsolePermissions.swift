public import RetainAuth

/// What a key may see and do in the console, from its scopes (docs/SECURITY.md). A page shows
/// a section only when the key may read what it needs, and a control only when the key may
/// make the call behind it; the console refuses the request itself too, and the gateway
/// refuses the call again, so hiding is a courtesy, not the check.
public struct ConsolePermissions: Sendable, Hashable {
    /// The key's scopes.
    public let scopes: ScopeSet

    public init(scopes: ScopeSet) {
        self.scopes = scopes
    }

    /// Whether the key holds every scope of `names` (`admin` holds them all).
    public func has(_ names: String...) -> Bool {
        guard let required = try? ScopeSet(names: names) else { return false }
        return scopes.allows(required)
    }

    /// Reading profiles, retention, segments and churn warnings.
    public var readsProfile: Bool { has("profile:read") }
    /// Reading growth views, tiers and the level-change stream.
    public var readsGrowth: Bool { has("growth:read") }
    /// Reading balances, statements and the audit.
    public var readsLedger: Bool { has("ledger:read") }
    /// Reading feedback items and statistics.
    public var readsFeedback: Bool { has("feedback:read") }
    /// Triage and replies (Feedback.TriageFeedback, Feedback.AddComment).
    public var writesFeedback: Bool { has("feedback:write") }
    /// Resolving with compensation: the gateway's ResolveFeedbackFlow (gateway:write), which
    /// changes feedback items (feedback:write) and pays through the ledger.
    public var resolvesFeedback: Bool { has("feedback:write", "gateway:write") }
    /// The user report (Gateway.GetUserReport).
    public var readsReports: Bool { has("gateway:read") }
}
