import ProfileCore
package import RetainProto
package import RetainWire

extension RequestValidator {
    /// RegisterUser: an id (or a request_id to generate one), names, zone, attributes, tags, time.
    package func validate(_ request: Retain_V1_RegisterUserRequest) throws(RPCError) {
        try optionalEntityID(request.userId, "user_id")
        if request.userId.isEmpty {
            guard !request.requestId.isEmpty else {
                throw RPCError.invalidArgument(field: "request_id", "is required when user_id is empty (the server generates the id)")
            }
        }
        if !request.requestId.isEmpty { try clientKey(request.requestId, "request_id") }
        try optionalName(request.channel, "channel")
        try optionalEntityID(request.campaign, "campaign")
        try optionalEntityID(request.inviterUserId, "inviter_user_id")
        if !request.inviterUserId.isEmpty, request.inviterUserId == request.userId {
            throw RPCError.invalidArgument(field: "inviter_user_id", "must differ from user_id")
        }
        try age(request.age, "age")
        try gender(request.gender, "gender")
        try optionalName(request.region, "region")
        try timeZone(request.timeZone, "time_zone")
        try attributes(request.attributes, "attributes")
        guard Set(request.tags).count <= ProfileState.maximumTags else {
            throw RPCError.invalidArgument(field: "tags", "at most \(ProfileState.maximumTags) tags are allowed")
        }
        for (position, tag) in request.tags.enumerated() { try name(tag, "tags[\(position)]") }
        try clientTime(request.registeredAtMs, "registered_at_ms")
    }

    /// UpdateAttributes.
    package func validate(_ request: Retain_V1_UpdateAttributesRequest) throws(RPCError) {
        try entityID(request.userId, "user_id")
        if request.hasAge { try age(request.age, "age") }
        if request.hasGender { try gender(request.gender, "gender") }
        if request.hasRegion { try optionalName(request.region, "region") }
        if request.hasTimeZone { try timeZone(request.timeZone, "time_zone") }
        try attributes(request.setAttributes, "set_attributes")
        guard request.removeAttributes.count <= 100 else {
            throw RPCError.invalidArgument(field: "remove_attributes", "at most 100 keys are allowed")
        }
        for (position, key) in request.removeAttributes.enumerated() {
            try name(key, "remove_attributes[\(position)]")
            if request.setAttributes[key] != nil {
                throw RPCError.invalidArgument(
                    field: "remove_attributes[\(position)]", "\(FieldFormat.quoted(key)) is also in set_attributes")
            }
        }
    }

    /// AddTags and RemoveTags.
    package func validateTags(userID: String, tags: [String]) throws(RPCError) {
        try entityID(userID, "user_id")
        try names(tags, "tags", count: 1...100)
    }

    /// DeleteUser.
    package func validate(_ request: Retain_V1_DeleteUserRequest) throws(RPCError) {
        try entityID(request.userId, "user_id")
        try text(request.reason, "reason", limit: 1024, required: true)
        try entityID(request.actor, "actor")
    }

    /// One activity event (RecordActivity, or an item of RecordActivities).
    package func validate(_ event: Retain_V1_ActivityEvent) throws(RPCError) {
        try entityID(event.userId, "user_id")
        try clientKey(event.eventId, "event_id")
        try name(event.kind, "kind")
        try clientTime(event.occurredAtMs, "occurred_at_ms")
        if let value = event.value {
            guard value.value >= 0, value.value <= Self.maximumAmount else {
                throw RPCError.invalidArgument(field: "value.value", "must be 0 to 2^53")
            }
            if value.value > 0 || !value.asset.isEmpty { try name(value.asset, "value.asset") }
        }
        if event.kind == "purchase" {
            guard let value = event.value, value.value > 0 else {
                throw RPCError.invalidArgument(field: "value", "a purchase needs a value greater than 0")
            }
        }
        try optionalName(event.source, "source")
        try attributes(event.properties, "properties", maximumKeys: 20, valueLimit: 256)
    }

    /// A segment filter.
    package func validate(_ filter: Retain_V1_SegmentFilter?, _ field: String = "filter") throws(RPCError) {
        guard let filter else { return }
        func optionalNames(_ values: [String], _ name: String) throws(RPCError) {
            guard values.count <= 1000 else { throw RPCError.invalidArgument(field: "\(field).\(name)", "at most 1000 entries") }
            for (position, value) in values.enumerated() { try optionalName(value, "\(field).\(name)[\(position)]") }
        }
        try optionalNames(filter.channels, "channels")
        guard filter.campaigns.count <= 1000 else { throw RPCError.invalidArgument(field: "\(field).campaigns", "at most 1000 entries") }
        for (position, campaign) in filter.campaigns.enumerated() {
            try optionalEntityID(campaign, "\(field).campaigns[\(position)]")
        }
        try names(filter.tagsAll, "\(field).tags_all")
        try names(filter.tagsAny, "\(field).tags_any")
        try names(filter.tagsNone, "\(field).tags_none")
        try optionalNames(filter.regions, "regions")
        guard filter.attributesEqual.count <= Self.maximumConditions else {
            throw RPCError.invalidArgument(
                field: "\(field).attributes_equal",
                "at most \(Self.maximumConditions) conditions, not \(filter.attributesEqual.count)")
        }
        for (position, condition) in filter.attributesEqual.enumerated() {
            let path = "\(field).attributes_equal[\(position)]"
            try name(condition.key, "\(path).key")
            guard (1...100).contains(condition.values.count) else {
                throw RPCError.invalidArgument(field: "\(path).values", "must hold 1 to 100 values")
            }
            for (index, value) in condition.values.enumerated() { try text(value, "\(path).values[\(index)]", limit: 1024) }
        }
        guard filter.attributeRanges.count <= Self.maximumConditions else {
            throw RPCError.invalidArgument(
                field: "\(field).attribute_ranges",
                "at most \(Self.maximumConditions) conditions, not \(filter.attributeRanges.count)")
        }
        for (position, condition) in filter.attributeRanges.enumerated() {
            let path = "\(field).attribute_ranges[\(position)]"
            try name(condition.key, "\(path).key")
            guard condition.hasMin || condition.hasMax else {
                throw RPCError.invalidArgument(field: path, "needs has_min or has_max")
            }
            guard !condition.hasMin || condition.minValue.isFinite, !condition.hasMax || condition.maxValue.isFinite else {
                throw RPCError.invalidArgument(field: path, "bounds must be finite numbers")
            }
            if condition.hasMin, condition.hasMax, condition.minValue > condition.maxValue {
                throw RPCError.invalidArgument(field: "\(path).max_value", "must not be below min_value")
            }
        }
        for (position, stage) in filter.stages.enumerated() where stage == .unspecified || stage.protoValueName == nil {
            throw RPCError.invalidArgument(field: "\(field).stages[\(position)]", "unknown lifecycle stage \(stage.rawValue)")
        }
        for (position, value) in filter.genders.enumerated() { try gender(value, "\(field).genders[\(position)]") }
        try range(filter.registered, "\(field).registered")
        try range(filter.lastActive, "\(field).last_active")
        try age(filter.minAge, "\(field).min_age")
        try age(filter.maxAge, "\(field).max_age")
        if filter.minAge > 0, filter.maxAge > 0, filter.minAge > filter.maxAge {
            throw RPCError.invalidArgument(field: "\(field).max_age", "must not be below min_age")
        }
        guard filter.activity.count <= Self.maximumConditions, filter.purchaseTotals.count <= Self.maximumConditions else {
            throw RPCError.invalidArgument(
                field: filter.activity.count > Self.maximumConditions ? "\(field).activity" : "\(field).purchase_totals",
                "at most \(Self.maximumConditions) conditions")
        }
        for (position, condition) in filter.activity.enumerated() {
            try SegmentRuleTree.validate(condition, field: "\(field).activity[\(position)]")
        }
        for (position, condition) in filter.purchaseTotals.enumerated() {
            try SegmentRuleTree.validate(condition, field: "\(field).purchase_totals[\(position)]")
        }
    }

    /// GetRetention; returns the days to report.
    package func validate(_ request: Retain_V1_GetRetentionRequest) throws(RPCError) -> [Int] {
        guard request.granularity.protoValueName != nil else {
            throw RPCError.invalidArgument(field: "granularity", "unknown granularity \(request.granularity.rawValue)")
        }
        guard let range = request.registered, range.startMs > 0, range.endMs > 0 else {
            throw RPCError.invalidArgument(field: "registered", "both start_ms and end_ms are required")
        }
        guard range.endMs > range.startMs else {
            throw RPCError.invalidArgument(field: "registered.end_ms", "must be greater than start_ms")
        }
        for (position, channel) in request.channels.enumerated() { try optionalName(channel, "channels[\(position)]") }
        guard request.days.count <= 64 else { throw RPCError.invalidArgument(field: "days", "at most 64 days may be asked") }
        for (position, day) in request.days.enumerated() where !(1...365).contains(day) {
            throw RPCError.invalidArgument(field: "days[\(position)]", "must be 1 to 365, not \(day)")
        }
        try timeZone(request.timeZone, "time_zone")
        try asOf(request.asOfMs)
        return request.days.isEmpty ? [1, 7, 30] : request.days.map { Int($0) }
    }

    /// GetExperimentResults.
    package func validate(_ request: Retain_V1_GetExperimentResultsRequest) throws(RPCError) {
        try entityID(request.experimentId, "experiment_id")
        try FieldFormat.requireName(request.metricKind, field: "metric_kind")
        if !request.controlVariant.isEmpty { try FieldFormat.requireName(request.controlVariant, field: "control_variant") }
    }

    /// GetActiveUsers.
    package func validate(_ request: Retain_V1_GetActiveUsersRequest) throws(RPCError) {
        guard let range = request.range, range.startMs > 0, range.endMs > 0 else {
            throw RPCError.invalidArgument(field: "range", "both start_ms and end_ms are required")
        }
        guard range.endMs > range.startMs else {
            throw RPCError.invalidArgument(field: "range.end_ms", "must be greater than start_ms")
        }
        for (position, channel) in request.channels.enumerated() { try optionalName(channel, "channels[\(position)]") }
        try timeZone(request.timeZone, "time_zone")
        try asOf(request.asOfMs)
    }

    /// GetFunnel.
    package func validate(_ request: Retain_V1_GetFunnelRequest) throws(RPCError) {
        guard request.granularity.protoValueName != nil else {
            throw RPCError.invalidArgument(field: "granularity", "unknown granularity \(request.granularity.rawValue)")
        }
        guard let range = request.registered, range.startMs > 0, range.endMs > 0 else {
            throw RPCError.invalidArgument(field: "registered", "both start_ms and end_ms are required")
        }
        guard range.endMs > range.startMs else {
            throw RPCError.invalidArgument(field: "registered.end_ms", "must be greater than start_ms")
        }
        for (position, channel) in request.channels.enumerated() { try optionalName(channel, "channels[\(position)]") }
        try timeZone(request.timeZone, "time_zone")
        try asOf(request.asOfMs)
    }

    /// ListChurnWarnings; returns the page size.
    package func validate(_ request: Retain_V1_ListChurnWarningsRequest) throws(RPCError) -> Int {
        for (position, channel) in request.channels.enumerated() { try optionalName(channel, "channels[\(position)]") }
        guard request.minDrop >= 0, request.minDrop <= 1 else {
            throw RPCError.invalidArgument(field: "min_drop", "must be 0 to 1, not \(request.minDrop)")
        }
        try asOf(request.asOfMs)
        return try page(request.page)
    }

    /// CheckContact.
    package func validate(_ request: Retain_V1_CheckContactRequest) throws(RPCError) {
        try entityID(request.userId, "user_id")
        guard (1...5).contains(request.channels.count) else {
            throw RPCError.invalidArgument(field: "channels", "must hold 1 to 5 candidate channels")
        }
        for (position, value) in request.channels.enumerated() { try channel(value, "channels[\(position)]") }
        guard Set(request.channels).count == request.channels.count else {
            throw RPCError.invalidArgument(field: "channels", "must not repeat a channel")
        }
        try entityID(request.campaignId, "campaign_id")
        try asOf(request.atMs, "at_ms")
    }

    /// RecordContact.
    package func validate(_ request: Retain_V1_RecordContactRequest) throws(RPCError) {
        try entityID(request.userId, "user_id")
        try clientKey(request.contactId, "contact_id")
        try channel(request.channel, "channel")
        try entityID(request.campaignId, "campaign_id")
        try asOf(request.sentAtMs, "sent_at_ms")
    }

    /// A contact policy; `field` prefixes the paths.
    package func validate(_ policy: Retain_V1_ContactPolicy, _ field: String = "policy") throws(RPCError) {
        var seen = Set<Retain_V1_ContactChannel>()
        for (position, cap) in policy.channels.enumerated() {
            let path = "\(field).channels[\(position)]"
            try channel(cap.channel, "\(path).channel")
            guard seen.insert(cap.channel).inserted else {
                throw RPCError.invalidArgument(field: "\(path).channel", "the channel appears twice")
            }
            guard cap.cost >= 0, cap.cost <= Self.maximumAmount else {
                throw RPCError.invalidArgument(field: "\(path).cost", "must be 0 to 2^53")
            }
        }
        guard policy.defaultCampaignWindowMs >= 0 else {
            throw RPCError.invalidArgument(field: "\(field).default_campaign_window_ms", "must not be negative")
        }
        for (campaign, window) in policy.campaignWindowMs {
            try entityID(campaign, "\(field).campaign_window_ms[\(campaign)]")
            guard window >= 0 else {
                throw RPCError.invalidArgument(field: "\(field).campaign_window_ms[\(campaign)]", "must not be negative")
            }
        }
        if policy.hasQuietHours {
            guard policy.quietStartMinute < 1440 else {
                throw RPCError.invalidArgument(field: "\(field).quiet_start_minute", "must be 0 to 1439")
            }
            guard policy.quietEndMinute < 1440 else {
                throw RPCError.invalidArgument(field: "\(field).quiet_end_minute", "must be 0 to 1439")
            }
        }
        try timeZone(policy.defaultTimeZone, "\(field).default_time_zone")
        try optionalName(policy.costAsset, "\(field).cost_asset")
    }

    /// AssignVariant.
    package func validate(_ request: Retain_V1_AssignVariantRequest) throws(RPCError) {
        try entityID(request.userId, "user_id")
        try entityID(request.experimentId, "experiment_id")
        if let (field, problem) = ExperimentDefinition.variantsProblem(request.variants, field: "variants") {
            throw RPCError.invalidArgument(field: field, problem)
        }
        try clientTime(request.assignedAtMs, "assigned_at_ms")
    }
}

extension RequestValidator {
    /// PutSavedSegment; returns the definition (name, description, rule) to store.
    package func validate(_ request: Retain_V1_PutSavedSegmentRequest) throws(RPCError) -> Retain_V1_SavedSegment {
        guard let segment = request.segment else { throw RPCError.invalidArgument(field: "segment", "is required") }
        try FieldFormat.requireName(segment.name, field: "segment.name")
        try text(segment.description, "segment.description", limit: 1024)
        _ = try SegmentRuleTree(segment.rule, field: "segment.rule")
        try entityID(request.actor, "actor")
        return segment
    }
}
