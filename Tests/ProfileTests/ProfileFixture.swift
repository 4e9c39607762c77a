@testable import ProfileCore
import ProfileService
import RetainProto
import RetainWire
import Testing

/// Milliseconds in a day.
let day: Int64 = 86_400_000
/// Monday 2025-06-02 00:00 UTC: day 0 of most scenarios.
let monday: Int64 = 1_748_822_400_000

/// A state driven through the same plans and log entries as the RPC layer, with explicit times.
struct ProfileFixture {
    var state = ProfileState()
    var evaluator = LifecycleEvaluator(rules: LifecycleRules())
    private var eventCounter = 0

    /// Registers `id` at `at` and returns the user's index.
    @discardableResult
    mutating func register(
        _ id: String, at: Int64 = monday, channel: String = "organic", tags: [String] = [],
        attributes: [String: String] = [:], age: UInt32 = 0, region: String = "", timeZone: String = ""
    ) throws -> Int32 {
        let request = Retain_V1_RegisterUserRequest(
            userId: id, channel: channel, age: age, region: region, timeZone: timeZone, attributes: attributes, tags: tags,
            registeredAtMs: at)
        guard case .register(let entry) = try state.planRegistration(request, now: at, generateID: { "unused" }) else {
            Issue.record("registration of \(id) was not new")
            return -1
        }
        try state.apply(entry)
        return state.userIndex(id)!
    }

    /// Records events and returns the plan (outcomes).
    @discardableResult
    mutating func record(
        _ events: [Retain_V1_ActivityEvent], now: Int64 = monday + 400 * day
    ) throws
        -> ProfileState.ActivityPlan
    {
        try plan(events, invalid: [:], now: now)
    }

    /// Prepares, applies and answers a batch, like RecordActivities.
    mutating func plan(
        _ events: [Retain_V1_ActivityEvent], invalid: [Int: Retain_V1_ItemError], now: Int64
    ) throws
        -> ProfileState.ActivityPlan
    {
        let batch = ProfileState.prepareActivities(events, invalid: invalid, now: now)
        if let entry = batch.entry { try state.apply(entry) }
        return state.activityPlan(batch, events: events, invalid: invalid) { $2.itemError(at: $0, field: $1) }
    }

    /// An event with a fresh id.
    mutating func event(_ user: String, at: Int64, kind: String = "login", value: Int64 = 0) -> Retain_V1_ActivityEvent {
        eventCounter += 1
        return Retain_V1_ActivityEvent(
            userId: user, eventId: "e\(eventCounter)", kind: kind, occurredAtMs: at,
            value: value > 0 ? Retain_V1_Amount(value: value, asset: "cash.usd") : nil)
    }

    /// Records one login on each of `days` (day numbers after `monday`, at noon), `perDay` times.
    mutating func active(_ user: String, days: some Sequence<Int>, perDay: Int = 1, kind: String = "login") throws {
        var events: [Retain_V1_ActivityEvent] = []
        for number in days {
            for repeatIndex in 0..<perDay {
                events.append(event(user, at: monday + Int64(number) * day + day / 2 + Int64(repeatIndex) * 1000, kind: kind))
            }
        }
        if !events.isEmpty { try record(events) }
    }

    /// The stage of `user` at noon of day `number`.
    func stage(_ user: String, onDay number: Int) -> Retain_V1_LifecycleStage {
        state.stage(state.userIndex(user)!, atMs: monday + Int64(number) * day + day / 2, evaluator: evaluator)
    }

    /// The lifecycle of `user` at noon of day `number`.
    func lifecycle(_ user: String, onDay number: Int) throws -> Retain_V1_GetLifecycleResponse {
        try state.lifecycle(state.userIndex(user)!, asOf: monday + Int64(number) * day + day / 2, evaluator: evaluator)
    }
}

/// Runs `body` and returns the status it answers with (its RPCError, or its domain error's
/// status), or records an issue when it does not throw one.
func rpcError(_ body: () throws -> Void) -> RPCError? {
    do {
        try body()
        Issue.record("expected an error")
        return nil
    } catch let error as RPCError {
        return error
    } catch let error as ProfileError {
        return error.status
    } catch {
        Issue.record("expected an RPCError or a ProfileError, got \(error)")
        return nil
    }
}
