@testable import ProfileCore
import RetainProto
import RetainWire
import Testing

@Suite("registration, attributes, tags and deletion")
struct RegistrationTests {
    @Test("a registered user's profile holds every field, tags sorted and merged")
    func registerAndRead() throws {
        var fixture = ProfileFixture()
        let user = try fixture.register(
            "alice", channel: "ads.google", tags: ["vip", "beta", "vip"],
            attributes: ["plan": "pro"], age: 31, region: "de-be", timeZone: "Europe/Berlin")
        let profile = fixture.state.profile(user, now: monday + day, evaluator: fixture.evaluator)
        #expect(profile.userId == "alice")
        #expect(profile.channel == "ads.google")
        #expect(profile.tags == ["beta", "vip"])
        #expect(profile.attributes == ["plan": "pro"])
        #expect(profile.age == 31)
        #expect(profile.region == "de-be")
        #expect(profile.timeZone == "Europe/Berlin")
        #expect(profile.registeredAtMs == monday)
        #expect(profile.stage == .new)
        #expect(profile.activityCount == 0)
    }

    @Test("the same registration retried replays; other fields under the same id are ALREADY_EXISTS")
    func idempotentRegistration() throws {
        var fixture = ProfileFixture()
        try fixture.register("bob", channel: "organic")
        let retry = Retain_V1_RegisterUserRequest(userId: "bob", channel: "organic", registeredAtMs: monday)
        guard case .replay(let index) = try fixture.state.planRegistration(retry, now: monday + 5, generateID: { "x" }) else {
            Issue.record("a retry must replay")
            return
        }
        #expect(index == fixture.state.userIndex("bob"))
        let other = Retain_V1_RegisterUserRequest(userId: "bob", channel: "referral", registeredAtMs: monday)
        let error = rpcError { _ = try fixture.state.planRegistration(other, now: monday, generateID: { "x" }) }
        #expect(error?.code == .alreadyExists)
    }

    @Test("a generated id is replayed by request_id, and the key cannot be reused for another body")
    func generatedIDs() throws {
        var state = ProfileState()
        let request = Retain_V1_RegisterUserRequest(requestId: "signup-77", channel: "organic")
        guard case .register(let entry) = try state.planRegistration(request, now: monday, generateID: { "u_generated" }) else {
            Issue.record("first registration must register")
            return
        }
        try state.apply(entry)
        #expect(state.userIndex("u_generated") != nil)
        guard case .replay(let index) = try state.planRegistration(request, now: monday + day, generateID: { "u_other" }) else {
            Issue.record("retry must replay")
            return
        }
        #expect(index == state.userIndex("u_generated"))
        var changed = request
        changed.channel = "referral"
        #expect(rpcError { _ = try state.planRegistration(changed, now: monday, generateID: { "u_third" }) }?.code == .alreadyExists)
    }

    @Test("attributes are set and removed, typed fields only when flagged, at most 100 keys")
    func updateAttributes() throws {
        var fixture = ProfileFixture()
        let user = try fixture.register("carol", attributes: ["a": "1", "b": "2"], age: 20)
        let update = Retain_V1_UpdateAttributesRequest(
            userId: "carol", hasRegion: true, region: "cn-sh", setAttributes: ["c": "3", "a": "9"], removeAttributes: ["b"])
        try fixture.state.apply(try fixture.state.planAttributeUpdate(update, now: monday + day))
        let profile = fixture.state.profile(user, now: monday + day, evaluator: fixture.evaluator)
        #expect(profile.attributes == ["a": "9", "c": "3"])
        #expect(profile.region == "cn-sh")
        #expect(profile.age == 20, "age is untouched without has_age")
        #expect(profile.updatedAtMs == monday + day)

        var many: [String: String] = [:]
        for number in 0..<99 { many["k\(number)"] = "v" }
        let tooMany = Retain_V1_UpdateAttributesRequest(userId: "carol", setAttributes: many)
        let error = rpcError { _ = try fixture.state.planAttributeUpdate(tooMany, now: monday) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.details["field"] == "set_attributes")
    }

    @Test("tags: present ones ignored, 100 allowed, the 101st is FAILED_PRECONDITION")
    func tagLimits() throws {
        var fixture = ProfileFixture()
        let user = try fixture.register("dave", tags: ["a"])
        #expect(try fixture.state.planTagChange(userID: "dave", add: ["a"], remove: [], now: monday) == nil)
        let ninetyNine = (0..<99).map { "t\($0)" }
        try fixture.state.apply(try fixture.state.planTagChange(userID: "dave", add: ninetyNine, remove: [], now: monday)!)
        #expect(fixture.state.tagNames(user).count == 100)
        let error = rpcError { _ = try fixture.state.planTagChange(userID: "dave", add: ["one-more"], remove: [], now: monday) }
        #expect(error?.code == .failedPrecondition)
        try fixture.state.apply(try fixture.state.planTagChange(userID: "dave", add: [], remove: ["a", "absent"], now: monday)!)
        #expect(fixture.state.tagNames(user).count == 99)
    }

    @Test("a deleted user disappears from reads, segments and retention, and refuses activity")
    func softDelete() throws {
        var fixture = ProfileFixture()
        try fixture.register("erin")
        try fixture.register("frank")
        guard
            case .delete(let entry) = try fixture.state.planDeletion(
                userID: "erin", reason: "user request", actor: "agent-1",
                now: monday + day)
        else {
            Issue.record("must delete")
            return
        }
        try fixture.state.apply(entry)
        guard
            case .alreadyDeleted(let at) = try fixture.state.planDeletion(
                userID: "erin", reason: "again", actor: "a",
                now: monday + 2 * day)
        else {
            Issue.record("second deletion must report the first")
            return
        }
        #expect(at == monday + day)
        #expect(rpcError { _ = try fixture.state.liveUserIndex("erin") }?.code == .notFound)
        #expect(fixture.state.countSegment(Retain_V1_SegmentFilter(), asOf: monday + day, evaluator: fixture.evaluator) == 1)
        let plan = try fixture.record([fixture.event("erin", at: monday + day)])
        #expect(plan.outcomes == [.userDeleted])
        #expect(
            rpcError { _ = try fixture.state.planActivity(fixture.event("erin", at: monday), now: monday) }?.code
                == .failedPrecondition)
        #expect(
            rpcError { _ = try fixture.state.planDeletion(userID: "nobody", reason: "r", actor: "a", now: 0) }?.code
                == .notFound)
    }
}
