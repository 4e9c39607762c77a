import GrowthCore
import RetainProto
import RetainWire

/// Checks of request fields that do not depend on the state; each throws INVALID_ARGUMENT
/// naming the field.
enum GrowthRequestValidation {
    static func timeZone(_ name: String, field: String = "time_zone") throws {
        guard name.isEmpty || LocalZone.named(name) != nil else {
            throw RPCError.invalidArgument(field: field, "\(FieldFormat.quoted(name)) is not an IANA time zone name (e.g. Europe/Berlin)")
        }
    }

    static func award(_ request: Retain_V1_AwardGrowthRequest) throws {
        try FieldFormat.requireEntityID(request.userId, field: "user_id")
        try FieldFormat.requireName(request.action, field: "action")
        guard request.action != GrowthState.checkInAction else {
            throw RPCError.invalidArgument(field: "action", "'check_in' is awarded by CheckIn, not AwardGrowth")
        }
        try FieldFormat.requireClientKey(request.idempotencyKey, field: "idempotency_key")
        try FieldFormat.requireAmount(request.value, field: "value")
        try timeZone(request.timeZone)
    }

    static func checkIn(_ request: Retain_V1_CheckInRequest) throws {
        try FieldFormat.requireEntityID(request.userId, field: "user_id")
        if !request.idempotencyKey.isEmpty {
            try FieldFormat.requireClientKey(request.idempotencyKey, field: "idempotency_key")
        }
        try timeZone(request.timeZone)
    }

    static func listTasks(_ request: Retain_V1_ListTasksRequest) throws {
        try FieldFormat.requireEntityID(request.userId, field: "user_id")
        try timeZone(request.timeZone)
    }

    static func claim(_ request: Retain_V1_ClaimTaskRewardRequest) throws {
        try FieldFormat.requireEntityID(request.userId, field: "user_id")
        try FieldFormat.requireEntityID(request.taskId, field: "task_id")
        try FieldFormat.requireClientKey(request.idempotencyKey, field: "idempotency_key")
        guard request.periodKey.utf8.count <= 16 else {
            throw RPCError.invalidArgument(field: "period_key", "must be \"once\", YYYY-MM-DD or YYYY-Www")
        }
        try timeZone(request.timeZone)
    }

    static func view(_ request: Retain_V1_GetGrowthViewRequest) throws {
        try FieldFormat.requireEntityID(request.userId, field: "user_id")
        try timeZone(request.timeZone)
    }

    static func summary(_ request: Retain_V1_GetGrowthSummaryRequest) throws {
        try FieldFormat.requireEntityID(request.userId, field: "user_id")
        guard let range = request.range else { throw RPCError.invalidArgument(field: "range", "is required") }
        guard range.startMs > 0 else { throw RPCError.invalidArgument(field: "range.start_ms", "is required") }
        guard range.endMs > 0 else { throw RPCError.invalidArgument(field: "range.end_ms", "is required") }
        guard range.endMs > range.startMs else {
            throw RPCError.invalidArgument(field: "range.end_ms", "must be greater than range.start_ms")
        }
        try timeZone(request.timeZone)
    }

    static func board(_ kind: Retain_V1_LeaderboardKind, field: String) throws -> Retain_V1_LeaderboardKind {
        switch kind {
        case .unspecified, .overall: return .overall
        case .weekly: return .weekly
        default: throw RPCError.invalidArgument(field: field, "unknown leaderboard \(kind.rawValue)")
        }
    }

    /// The most rows GetBoardPosition lists on each side: GetRank's 50 neighbours, and one more
    /// row the gateway asks for to rank the first of them over several shards.
    static let maximumBoardNeighbours: UInt32 = 51

    /// A count with a default for 0 and an upper bound.
    static func count(_ value: UInt32, field: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        if value == 0 { return defaultValue }
        guard range.contains(Int(value)) else {
            throw RPCError.invalidArgument(field: field, "must be \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
        return Int(value)
    }
}

extension GrowthRequestValidation {
    static func levels(_ request: Retain_V1_GetLevelsRequest) throws {
        guard (1...1000).contains(request.userIds.count) else {
            throw RPCError.invalidArgument(field: "user_ids", "must hold 1 to 1000 user ids, not \(request.userIds.count)")
        }
        for (position, id) in request.userIds.enumerated() { try FieldFormat.requireEntityID(id, field: "user_ids[\(position)]") }
        guard request.asOfMs >= 0 else { throw RPCError.invalidArgument(field: "as_of_ms", "must not be negative") }
    }
}
