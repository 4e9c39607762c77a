package import RetainProto

/// The opaque page tokens of the listings: `<kind>1.<query hash, 16 hex digits>.<as_of_ms>.<cursor
/// fields separated by dots>`.
///
/// The hash covers the request without its page, so a token given with other filters or another
/// order is refused; the as-of time travels in the token, so later pages judge "overdue" at the
/// same time as the first one.
package struct PageToken: Sendable, Equatable {
    /// What it pages: "l" ListFeedback, "o" ListOverdue, "q" GetFaq.
    package var kind: String
    /// Hash of the query.
    package var queryHash: UInt64
    /// The as-of time of the first page.
    package var asOfMs: Int64
    /// Where the next page starts: the sort values of the last entry of the previous page.
    package var cursor: [String]

    package init(kind: String, queryHash: UInt64, asOfMs: Int64, cursor: [String]) {
        self.kind = kind
        self.queryHash = queryHash
        self.asOfMs = asOfMs
        self.cursor = cursor
    }

    /// The token's text.
    package var encoded: String {
        let hex = String(queryHash, radix: 16)
        return (["\(kind)1", String(repeating: "0", count: 16 - hex.count) + hex, String(asOfMs)] + cursor)
            .joined(separator: ".")
    }

    /// Parses a token of `kind` for a query with hash `queryHash` and `fields` cursor fields;
    /// `.invalid` (field `page.page_token`) when malformed or issued for another query.
    package init(decoding text: String, kind: String, queryHash: UInt64, fields: Int) throws(FeedbackError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 + fields, parts[0] == "\(kind)1", parts[1].count == 16,
            let hash = UInt64(parts[1], radix: 16), let asOf = Int64(parts[2])
        else {
            throw FeedbackError.invalid(field: "page.page_token", reason: "malformed page token")
        }
        guard hash == queryHash else {
            throw FeedbackError.invalid(field: "page.page_token", reason: "the page token was issued for other filters or another order")
        }
        self.init(kind: kind, queryHash: hash, asOfMs: asOf, cursor: parts.dropFirst(3).map(String.init))
    }

    /// The hash of `message`'s encoding (messages without maps encode deterministically).
    package static func hash(of message: some ProtoMessage) -> UInt64 {
        var hash = StableHash()
        hash.combine(bytes: message.serializedBytes())
        return hash.value
    }

    /// The cursor field at `index` as an integer; `.invalid` when it is not one.
    package func integer(_ index: Int) throws(FeedbackError) -> Int64 {
        guard let value = Int64(cursor[index]) else {
            throw FeedbackError.invalid(field: "page.page_token", reason: "malformed page token")
        }
        return value
    }
}

/// Page size of a request: 0 means 50, more than 1000 is `.invalid`.
package func pageSize(of page: Retain_V1_PageRequest?) throws(FeedbackError) -> Int {
    let size = Int(page?.pageSize ?? 0)
    guard size <= 1000 else { throw FeedbackError.invalid(field: "page.page_size", reason: "must be at most 1000, not \(size)") }
    return size == 0 ? 50 : size
}
