import Foundation
import GatewayCore
import RetainCluster
import GatewayService
import RetainProto
import RetainWire
import Testing
import RetainFlowRules

/// Which calls may be retried, and which instances a call may go to.
@Suite("Routing rules")
struct RoutingRulesTests {
    @Test("a call that was never processed may always be retried")
    func notProcessed() {
        let error = RPCError(.unavailable, "cannot connect", details: ["not_processed": "true"])
        #expect(RetryPolicy.mayRetry(after: error, idempotencyKey: "", methodIsIdempotent: false))
    }

    @Test("a broken connection is retried only with an idempotency key or for an idempotent method")
    func brokenConnection() {
        let error = RPCError(.unavailable, "connection closed")
        #expect(!RetryPolicy.mayRetry(after: error, idempotencyKey: "", methodIsIdempotent: false))
        #expect(RetryPolicy.mayRetry(after: error, idempotencyKey: "key-1", methodIsIdempotent: false))
        #expect(RetryPolicy.mayRetry(after: error, idempotencyKey: "", methodIsIdempotent: true))
    }

    @Test(
        "a backend's answer is never retried, whatever the key",
        arguments: [
            RPCStatusCode.invalidArgument, .notFound, .alreadyExists, .failedPrecondition, .deadlineExceeded, .internal,
            .cancelled, .resourceExhausted, .unimplemented,
        ])
    func answers(code: RPCStatusCode) {
        #expect(!RetryPolicy.mayRetry(after: RPCError(code, "no"), idempotencyKey: "key", methodIsIdempotent: true))
    }

    private func planner(failover: Bool = false) -> RoutePlanner {
        RoutePlanner(
            service: Topology.Service(
                name: "retain.v1.Profile",
                instances: [
                    .init(id: "p0", host: "h", port: 1), .init(id: "p1", host: "h", port: 2), .init(id: "p2", host: "h", port: 3),
                ], userFailover: failover), virtualNodes: 64)
    }

    @Test("a user-keyed call goes to the owner only, even while it is unhealthy: its state lives there")
    func ownerOnly() {
        let planner = planner()
        let owner = planner.ring.owner(of: "alice")!
        var health = [true, true, true]
        #expect(planner.candidates(userID: "alice", inRotation: health, start: 0) == [owner])
        health[owner] = false
        #expect(planner.candidates(userID: "alice", inRotation: health, start: 5) == [owner])
    }

    @Test("with user_failover, a user-keyed call skips an unhealthy owner for the next on its ring")
    func failover() {
        let planner = planner(failover: true)
        let preference = planner.ring.preference(of: "alice")
        var health = [true, true, true]
        health[preference[0]] = false
        #expect(planner.candidates(userID: "alice", inRotation: health, start: 0) == Array(preference.dropFirst()))
        #expect(planner.placement(of: "alice")?.owner == preference[0])
    }

    @Test("other calls rotate over the healthy instances, or over all when none is healthy")
    func roundRobin() {
        let planner = planner()
        #expect(planner.candidates(userID: nil, inRotation: [true, true, true], start: 1) == [1, 2, 0])
        #expect(planner.candidates(userID: nil, inRotation: [true, false, true], start: 1) == [2, 0])
        #expect(planner.candidates(userID: "", inRotation: [false, false, false], start: 2) == [2, 0, 1])
    }

    @Test("the contract's methods are known with their request types, and user-keyed ones are recognised")
    func catalog() throws {
        let getProfile = try #require(MethodCatalog.method("retain.v1.Profile/GetProfile"))
        #expect(getProfile.inputType == "retain.v1.GetProfileRequest")
        #expect(getProfile.isUserKeyed)
        #expect(MethodCatalog.method("retain.v1.Profile/CountSegment")?.isUserKeyed == false)
        #expect(MethodCatalog.method("retain.v1.Profile/RecordActivities")?.isUserKeyed == false)
        #expect(MethodCatalog.method("retain.v1.Growth/WatchLevelChanges")?.serverStreaming == true)
        #expect(MethodCatalog.method("retain.v1.Echo/Inspect")?.isUserKeyed == true)
        #expect(MethodCatalog.method("retain.v1.Feedback/GetFeedback")?.isUserKeyed == false)
    }

    @Test("the user id is read from a request's packed bytes, and malformed bytes are refused")
    func readUserID() throws {
        let descriptor = try #require(MessageDescriptor.lookup("retain.v1.GetBalanceRequest"))
        let bytes = Retain_V1_GetBalanceRequest(userId: "zoë", assets: ["points"], includeLots: true).serializedBytes()
        #expect(bytes.withUnsafeBytes { descriptor.readStringField(1, from: $0) } == "zoë")
        #expect([UInt8]().withUnsafeBytes { descriptor.readStringField(1, from: $0) } == "")
        #expect([0x0a, 0x09, 0x61].withUnsafeBytes { descriptor.readStringField(1, from: $0) } == nil)
        #expect(bytes.withUnsafeBytes { descriptor.readStringField(2, from: $0) } == nil)
    }

    @Test("derived ids: SHA-256 known answers, base-32 user ids, long keys shortened")
    func derivedIDs() {
        #expect(FlowKeys.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(FlowKeys.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(FlowKeys.sha256Hex(String(repeating: "a", count: 1000)).hasPrefix("41edece42d63e8d9bf515a9ba6932e1c"))
        let user = FlowKeys.userID(forEvent: "abc")
        #expect(user == "u_xj4bnp4pahh6uqkbidpf3lrceo")  // Python: base64.b32encode(sha256(b"abc"))
        let long = String(repeating: "k", count: 300)
        let key = FlowKeys.derive("onboard:", long)
        #expect(key.utf8.count <= 256 && key.hasPrefix("onboard:sha256:"))
        #expect(FlowKeys.derive("onboard:", "e1") == "onboard:e1")
    }

    @Test("a flow configuration with a bad entry is refused, naming it")
    func configurationErrors() throws {
        #expect(throws: FlowConfigurationError("welcome_bonus.reward.value: must be 1 to 2^53, not 0")) {
            _ = try FlowConfiguration.parse(
                Data(
                    """
                    {"welcome_bonus": {"reward": {"value": 0, "asset": "points"}, "budget": "w"},
                     "task_rewards": {"budget": "t"}, "compensation": {"budget": "c"}}
                    """.utf8))
        }
        #expect(throws: FlowConfigurationError("task_rewards: is required")) {
            _ = try FlowConfiguration.parse(Data(#"{"compensation": {"budget": "c"}}"#.utf8))
        }
        let spring = try FlowConfiguration.parse(
            Data(
                """
                {"campaigns": {"spring_sale": {"welcome_bonus": {"reward": {"value": 300, "asset": "points"}, "budget": "spring"}}},
                 "task_rewards": {"budget": "t"}, "compensation": {"budget": "c"}}
                """.utf8))
        #expect(spring.rules(forCampaign: "spring_sale").welcomeBonus?.reward.value == 300)
        #expect(spring.rules(forCampaign: "other").welcomeBonus == nil)
    }
}

/// The configuration files the gateway ships.
@Suite("Shipped configuration")
struct ShippedConfigurationTests {
    @Test("Config/flows.json holds the built-in rewards, and compose's topology names the four services")
    func shippedFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let flows = try FlowConfiguration.load(path: root.appendingPathComponent("Services/Gateway/Config/flows.json").path)
        #expect(flows == FlowConfiguration.standard.withEmptyOptionals)
        let topology = try Topology.load(path: root.appendingPathComponent("compose/topology.json").path)
        #expect(topology.services.keys.sorted() == ["retain.v1.Feedback", "retain.v1.Growth", "retain.v1.Ledger", "retain.v1.Profile"])
    }
}

extension FlowConfiguration {
    /// The same rewards with the optional maps present but empty, as the shipped file writes them.
    var withEmptyOptionals: FlowConfiguration {
        var copy = self
        copy.campaigns = campaigns ?? [:]
        copy.budgetCaps = budgetCaps ?? [:]
        return copy
    }
}
