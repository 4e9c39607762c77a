/// Why the gateway cannot merge the shards' answers of a call, in the domain's words; the
/// service layer turns it into a status (INVALID_ARGUMENT, field `page.page_token`).
public enum ShardMergeError: Error, Equatable, Sendable {
    /// The merged page token is malformed, or was issued for another set of shards.
    case invalidPageToken(String)
    /// The page size the gateway pages itself is out of range (as a service would refuse it).
    case invalidPageSize(String)
}
