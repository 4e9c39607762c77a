import RetainProto

/// The opaque page tokens of ListSegment and ListChurnWarnings:
/// `<kind>1.<query hash, 16 hex digits>.<as_of_ms>.<cursor>`.
///
/// The hash covers the query's filters, so that a token given with other filters is refused;
/// the as-of time travels in the token, so that later pages evaluate stages at the same time as
/// the first one even when the request leaves `as_of_ms` at 0.
package struct PageToken: Sendable, Equatable {
    /// What lists it pages: "s" segments, "c" churn warnings.
    package var kind: String
    /// Hash of the query.
    package var queryHash: UInt64
    /// The as-of time of the first page.
    package var asOf: Int64
    /// Where the next page starts (the last item of the previous page).
    package var cursor: String

    package init(kind: String, queryHash: UInt64, asOf: Int64, cursor: String) {
        self.kind = kind
        self.queryHash = queryHash
        self.asOf = asOf
        self.cursor = cursor
    }

    /// The token's text.
    package var encoded: String {
        let hex = String(queryHash, radix: 16)
        return "\(kind)1.\(String(repeating: "0", count: 16 - hex.count))\(hex).\(asOf).\(cursor)"
    }

    /// Parses a token for a query of `kind` with hash `queryHash`; `.invalid` (field
    /// `page.page_token`) when it is malformed or was issued for another query.
    package init(decoding text: String, kind: String, queryHash: UInt64) throws(ProfileError) {
        let parts = text.split(separator: ".", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "\(kind)1", parts[1].count == 16, let hash = UInt64(parts[1], radix: 16),
            let asOf = Int64(parts[2]), !parts[3].isEmpty
        else {
            throw ProfileError.invalid(field: "page.page_token", reason: "malformed page token")
        }
        guard hash == queryHash else {
            throw ProfileError.invalid(field: "page.page_token", reason: "the page token was issued for other filters")
        }
        self.init(kind: kind, queryHash: hash, asOf: asOf, cursor: String(parts[3]))
    }

    /// Where a paged query resumes: on the first page (no token) at `requestedAsOf` or `now`
    /// with no cursor; on a later one at the token's as-of time (a request may repeat it, not
    /// change it) after the token's cursor.
    package static func resume(
        _ text: String, kind: String, queryHash: UInt64, requestedAsOf: Int64?, now: Int64
    ) throws(ProfileError) -> (asOf: Int64, cursor: String?) {
        guard !text.isEmpty else { return (requestedAsOf ?? now, nil) }
        let token = try PageToken(decoding: text, kind: kind, queryHash: queryHash)
        if let requestedAsOf, requestedAsOf != token.asOf {
            throw ProfileError.invalid(field: "as_of_ms", reason: "must stay \(token.asOf) across pages, not \(requestedAsOf)")
        }
        return (token.asOf, token.cursor)
    }
}
