import FeedbackCore
package import RetainProto
package import RetainWire

/// Checks the form of every request (what does not depend on the state) and answers
/// INVALID_ARGUMENT naming the field; the domain checks the rest.
package enum FeedbackValidation {
    /// Free-text limits.
    static let maximumTextBytes = 10_000
    static let maximumNoteBytes = 4_096
    static let maximumReferenceBytes = 1_024
    static let maximumSearchBytes = 256
    static let maximumProperties = 20
    static let maximumPropertyValueBytes = 256
    /// Client times more than this in the future are refused.
    static let clockSkewAllowanceMs: Int64 = 5 * 60_000
    /// Amounts above 2^53 are refused, so sums cannot overflow.
    static let maximumAmount: Int64 = 1 << 53

    static func entityID(_ value: String, _ field: String) throws(RPCError) {
        try FieldFormat.requireEntityID(value, field: field)
    }

    static func optionalEntityID(_ value: String, _ field: String) throws(RPCError) {
        if !value.isEmpty { try entityID(value, field) }
    }

    static func key(_ value: String, _ field: String) throws(RPCError) {
        guard !value.isEmpty else { throw RPCError.invalidArgument(field: field, "is required") }
        guard FieldFormat.isClientKey(value) else {
            throw RPCError.invalidArgument(field: field, "must be 1 to 256 printable ASCII characters without spaces")
        }
    }

    static func name(_ value: String, _ field: String) throws(RPCError) {
        guard FieldFormat.isName(value) else {
            throw RPCError.invalidArgument(
                field: field, "\(FieldFormat.quoted(value)) is not a name (1 to 64 lower-case letters, digits, '_', '.', '-')")
        }
    }

    static func text(_ value: String, _ field: String, required: Bool, maximum: Int) throws(RPCError) {
        if required, value.isEmpty { throw RPCError.invalidArgument(field: field, "is required") }
        guard value.utf8.count <= maximum else {
            throw RPCError.invalidArgument(field: field, "is \(value.utf8.count) bytes, more than \(maximum)")
        }
    }

    static func itemID(_ value: String) throws(RPCError) {
        guard !value.isEmpty else { throw RPCError.invalidArgument(field: "item_id", "is required") }
        guard ItemKey(value) != nil else {
            throw RPCError.invalidArgument(
                field: "item_id", "\(FieldFormat.quoted(value)) is not an item id (fb_ and 26 base-32 characters)")
        }
    }

    static func range(_ range: Retain_V1_TimeRange?, _ field: String) throws(RPCError) {
        guard let range else { return }
        guard range.startMs >= 0 else { throw RPCError.invalidArgument(field: "\(field).start_ms", "must not be negative") }
        guard range.endMs >= 0 else { throw RPCError.invalidArgument(field: "\(field).end_ms", "must not be negative") }
        if range.startMs != 0, range.endMs != 0, range.endMs <= range.startMs {
            throw RPCError.invalidArgument(field: "\(field).end_ms", "must be after start_ms")
        }
    }

    static func known<E: ProtoEnum>(_ value: E, _ field: String, allowUnspecified: Bool = false) throws(RPCError) {
        if value.rawValue == 0 {
            guard allowUnspecified else { throw RPCError.invalidArgument(field: field, "is required") }
            return
        }
        guard value.protoValueName != nil else {
            throw RPCError.invalidArgument(field: field, "\(value.rawValue) is not a known \(E.protoName) value")
        }
    }

    static func page(_ page: Retain_V1_PageRequest?) throws(RPCError) {
        guard let page else { return }
        guard page.pageSize <= 1000 else {
            throw RPCError.invalidArgument(field: "page.page_size", "must be at most 1000, not \(page.pageSize)")
        }
    }

    // MARK: Requests

    /// A submission; returns it with the category defaulted to "general".
    /// Most privileges in a submission.
    static let maximumPrivileges = 32

    package static func submission(
        _ request: Retain_V1_SubmitFeedbackRequest, nowMs: Int64
    ) throws(RPCError)
        -> Retain_V1_SubmitFeedbackRequest
    {
        try entityID(request.userId, "user_id")
        try key(request.requestId, "request_id")
        try known(request.kind, "kind")
        var normalised = request
        if request.category.isEmpty { normalised.category = "general" } else { try name(request.category, "category") }
        try text(request.text, "text", required: true, maximum: maximumTextBytes)
        if !request.channel.isEmpty { try name(request.channel, "channel") }
        if let reference = request.reference {
            try name(reference.refKind, "reference.ref_kind")
            try text(reference.refId, "reference.ref_id", required: true, maximum: maximumReferenceBytes)
        }
        guard request.submittedAtMs >= 0 else { throw RPCError.invalidArgument(field: "submitted_at_ms", "must not be negative") }
        guard request.submittedAtMs <= nowMs + clockSkewAllowanceMs else {
            throw RPCError.invalidArgument(field: "submitted_at_ms", "is more than 5 minutes in the future")
        }
        guard request.properties.count <= maximumProperties else {
            throw RPCError.invalidArgument(field: "properties", "has \(request.properties.count) keys, more than \(maximumProperties)")
        }
        for (key, value) in request.properties.sorted(by: { $0.key < $1.key }) {
            try name(key, "properties[\(FieldFormat.shortened(key))]")
            try text(value, "properties[\(FieldFormat.shortened(key))]", required: false, maximum: maximumPropertyValueBytes)
        }
        guard request.privileges.count <= maximumPrivileges else {
            throw RPCError.invalidArgument(field: "privileges", "has \(request.privileges.count) entries, more than \(maximumPrivileges)")
        }
        for (index, privilege) in request.privileges.enumerated() { try name(privilege, "privileges[\(index)]") }
        return normalised
    }

    /// The fields every workflow request has.
    static func change(itemID: String, actor: String, actorField: String = "actor", note: String, requestID: String) throws(RPCError) {
        try Self.itemID(itemID)
        try entityID(actor, actorField)
        try text(note, "note", required: false, maximum: maximumNoteBytes)
        try key(requestID, "request_id")
    }

    package static func triage(_ request: Retain_V1_TriageFeedbackRequest) throws(RPCError) {
        try change(itemID: request.itemId, actor: request.actor, note: request.note, requestID: request.requestId)
        if !request.category.isEmpty { try name(request.category, "category") }
        try optionalEntityID(request.team, "team")
    }

    package static func assignment(_ request: Retain_V1_AssignFeedbackRequest) throws(RPCError) {
        try change(itemID: request.itemId, actor: request.actor, note: request.note, requestID: request.requestId)
        try entityID(request.assignee, "assignee")
        try optionalEntityID(request.team, "team")
    }

    package static func start(_ request: Retain_V1_StartProgressRequest) throws(RPCError) {
        try change(itemID: request.itemId, actor: request.actor, note: request.note, requestID: request.requestId)
    }

    package static func resolution(_ request: Retain_V1_ResolveFeedbackRequest) throws(RPCError) {
        try change(itemID: request.itemId, actor: request.actor, note: request.note, requestID: request.requestId)
        try known(request.outcome, "outcome")
        try text(request.answer, "answer", required: false, maximum: maximumTextBytes)
        if let compensation = request.compensation {
            guard compensation.value > 0 else {
                throw RPCError.invalidArgument(field: "compensation.value", "must be above 0 (leave compensation unset for none)")
            }
            guard compensation.value <= maximumAmount else {
                throw RPCError.invalidArgument(field: "compensation.value", "must be at most 2^53")
            }
            guard
                compensation.asset == "points"
                    || (compensation.asset.hasPrefix("coupon.") && FieldFormat.isName(compensation.asset)
                        && compensation.asset.count > "coupon.".count)
            else {
                throw RPCError.invalidArgument(
                    field: "compensation.asset", "must be \"points\" or \"coupon.<type>\", not \(FieldFormat.quoted(compensation.asset))")
            }
        }
    }

    package static func closing(_ request: Retain_V1_CloseFeedbackRequest) throws(RPCError) {
        try change(itemID: request.itemId, actor: request.actor, note: request.note, requestID: request.requestId)
    }

    package static func reopening(_ request: Retain_V1_ReopenFeedbackRequest) throws(RPCError) {
        try change(itemID: request.itemId, actor: request.actor, note: request.note, requestID: request.requestId)
        guard !request.note.isEmpty else { throw RPCError.invalidArgument(field: "note", "is required: say why the item is reopened") }
    }

    package static func comment(_ request: Retain_V1_AddCommentRequest) throws(RPCError) {
        try itemID(request.itemId)
        try entityID(request.author, "author")
        try text(request.text, "text", required: true, maximum: maximumTextBytes)
        try key(request.requestId, "request_id")
    }

    package static func compensationPaid(_ request: Retain_V1_MarkCompensationPaidRequest) throws(RPCError) {
        try itemID(request.itemId)
        try key(request.transferId, "transfer_id")
        try entityID(request.actor, "actor")
    }

    package static func get(_ request: Retain_V1_GetFeedbackRequest) throws(RPCError) {
        try itemID(request.itemId)
        try optionalEntityID(request.userId, "user_id")
    }

    package static func list(_ request: Retain_V1_ListFeedbackRequest) throws(RPCError) {
        try page(request.page)
        try known(request.sort, "sort", allowUnspecified: true)
        guard let filter = request.filter else { return }
        for (index, status) in filter.statuses.enumerated() { try known(status, "filter.statuses[\(index)]") }
        for (index, kind) in filter.kinds.enumerated() { try known(kind, "filter.kinds[\(index)]") }
        for (index, priority) in filter.priorities.enumerated() { try known(priority, "filter.priorities[\(index)]") }
        for (index, team) in filter.teams.enumerated() { try entityID(team, "filter.teams[\(index)]") }
        for (index, category) in filter.categories.enumerated() { try name(category, "filter.categories[\(index)]") }
        try optionalEntityID(filter.userId, "filter.user_id")
        try optionalEntityID(filter.assignee, "filter.assignee")
        try range(filter.created, "filter.created")
        try text(filter.textContains, "filter.text_contains", required: false, maximum: maximumSearchBytes)
        try known(filter.compensationState, "filter.compensation_state", allowUnspecified: true)
    }

    package static func overdue(_ request: Retain_V1_ListOverdueRequest) throws(RPCError) {
        try page(request.page)
        for (index, team) in request.teams.enumerated() { try entityID(team, "teams[\(index)]") }
        for (index, priority) in request.priorities.enumerated() { try known(priority, "priorities[\(index)]") }
        guard request.asOfMs >= 0 else { throw RPCError.invalidArgument(field: "as_of_ms", "must not be negative") }
    }

    package static func history(_ request: Retain_V1_GetUserFeedbackHistoryRequest) throws(RPCError) {
        try entityID(request.userId, "user_id")
        try range(request.range, "range")
        guard request.openLimit <= 100 else { throw RPCError.invalidArgument(field: "open_limit", "must be at most 100") }
    }

    package static func faq(_ request: Retain_V1_GetFaqRequest) throws(RPCError) {
        try page(request.page)
        for (index, category) in request.categories.enumerated() { try name(category, "categories[\(index)]") }
    }

    package static func stats(_ request: Retain_V1_GetFeedbackStatsRequest) throws(RPCError) {
        try range(request.range, "range")
        for (index, team) in request.teams.enumerated() { try entityID(team, "teams[\(index)]") }
        guard request.asOfMs >= 0 else { throw RPCError.invalidArgument(field: "as_of_ms", "must not be negative") }
    }
}
