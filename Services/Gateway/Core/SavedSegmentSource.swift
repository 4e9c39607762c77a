public import RetainProto

/// What evaluating a saved segment needs from the services (``SavedSegmentEvaluation``): the
/// definition, each Profile shard's candidates, and batch reads of levels (Growth, every user on
/// its owning shard) and balances (the Ledger). The gateway's service layer implements it over
/// its forwarder; tests use a fake.
public protocol SavedSegmentSource: Sendable {
    /// The Profile shard ids, in ring order.
    var profileShards: [String] { get }
    /// The saved segment `name`; NOT_FOUND when no shard keeps it.
    func definition(_ name: String) async throws -> Retain_V1_SavedSegment
    /// MatchSegmentRule on Profile shard `shard` (an index into ``profileShards``).
    func match(shard: Int, _ request: Retain_V1_MatchSegmentRuleRequest) async throws -> Retain_V1_MatchSegmentRuleResponse
    /// The level and total growth of each user (at most 1000) as of `asOf`, in order.
    func levels(_ userIDs: [String], asOf: Int64) async throws -> [Retain_V1_UserLevel]
    /// The balance of `asset` of each user (at most 1000) as of `asOf`, in order.
    func balances(_ userIDs: [String], asset: String, asOf: Int64) async throws -> [Retain_V1_UserBalance]
}

/// Why the gateway refuses a saved-segment call, in its own words; the service layer maps it
/// to a status (INVALID_ARGUMENT naming the field, FAILED_PRECONDITION).
public enum SavedSegmentError: Error, Equatable, Sendable {
    /// A request field does not fit.
    case invalid(field: String, reason: String)
    /// The page token was issued for an older version of the definition.
    case definitionChanged(String)
}
