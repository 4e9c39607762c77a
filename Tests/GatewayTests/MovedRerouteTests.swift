import Foundation
import GatewayCore
import GatewayService
import Logging
import NIOCore
import RetainCluster
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// A call about one user that a shard refuses as moved (a reshard fenced the user) waits for the
/// gateway's next ring and goes to the user's owner on it, carrying that ring's version; it is
/// never sent again by the ring it started with. Real servers on loopback, the ring key driven by
/// hand (the watch that drives it in production is tested against etcd elsewhere).
@Suite("Gateway re-routes a call refused as moved", .serialized)
struct MovedRerouteTests {
    /// A Growth shard answering GetGrowthView: refuses the users it no longer holds as moved,
    /// and records the ring version each call carried.
    final class Shard: Sendable {
        final class State: Sendable {
            let movedAway = Mutex<Set<String>>([])
            let calls = Mutex<[(user: String, ringVersion: String)]>([])
        }

        let name: String
        let state = State()
        let server: RPCServer
        let port: Int

        init(_ name: String) async throws {
            self.name = name
            let state = state
            var router = RPCRouter()
            router.unary(Retain_V1_Growth.getGrowthView) { request, context in
                state.calls.withLock { $0.append((request.userId, context.metadata["ring-version"] ?? "")) }
                if state.movedAway.withLock({ $0.contains(request.userId) }) {
                    throw RPCError(
                        .unavailable, "user '\(request.userId)' moved to another shard",
                        details: ["not_processed": "true", "moved": "true"])
                }
                return Retain_V1_GetGrowthViewResponse(totalGrowth: name == "growth-0" ? 0 : 1)
            }
            var configuration = RPCServer.Configuration()
            configuration.host = "127.0.0.1"
            configuration.port = 0
            server = RPCServer(router: router, configuration: configuration, logger: Logger(label: name))
            port = try await server.start().port!
        }

        var instance: RingRecord.Instance { .init(id: name, address: "127.0.0.1:\(port)") }
        var calls: [(user: String, ringVersion: String)] { state.calls.withLock { $0 } }

        func stop() async {
            server.drain()
            try? await server.waitForConnectionsToClose()
        }
    }

    /// A user the two-shard ring gives to its second shard.
    static let user = (0..<1000).map { "user-\($0)" }.first { HashRing(instanceIDs: ["growth-0", "growth-1"]).owner(of: $0) == 1 }!

    @Test("refused as moved by the old owner, the call waits for the next ring and is answered by the new owner with its version")
    func movedCallFollowsTheNextRing() async throws {
        let old = try await Shard("growth-0")
        let new = try await Shard("growth-1")
        let gateway = try await LoopbackGateway(leaderWait: .seconds(5))
        await gateway.ring([old], version: 1)
        #expect(try await gateway.view(Self.user) == 0)

        // The reshard fences the user at growth-0; the gateway sees ring v2 only 300 ms later.
        old.state.movedAway.withLock { _ = $0.insert(Self.user) }
        async let answer = gateway.view(Self.user)
        try await Task.sleep(for: .milliseconds(300))
        await gateway.ring([old, new], version: 2)
        #expect(try await answer == 1, "answered by the user's new owner")
        #expect(new.calls.map(\.ringVersion) == ["2"], "the attempt carries the ring it was routed by")
        let refused = old.calls.dropFirst()
        #expect(!refused.isEmpty && refused.allSatisfy { $0.ringVersion == "1" })
        // The shard that refused a moved user stays in rotation: another user still goes there.
        let stays = (0..<1000).map { "user-\($0)" }.first { HashRing(instanceIDs: ["growth-0", "growth-1"]).owner(of: $0) == 0 }!
        #expect(try await gateway.view(stays) == 0)

        await gateway.close()
        await old.stop()
        await new.stop()
    }

    @Test("refused as moved with no newer ring within the wait, the call fails as moved (retryable) once its wait is spent")
    func movedCallWithoutNewRingFails() async throws {
        let old = try await Shard("growth-0")
        let gateway = try await LoopbackGateway(leaderWait: .milliseconds(400))
        await gateway.ring([old], version: 1)
        old.state.movedAway.withLock { _ = $0.insert(Self.user) }
        let started = ContinuousClock.now
        let error = await #expect(throws: RPCError.self) { _ = try await gateway.view(Self.user) }
        #expect(error?.code == .unavailable && error?.details["moved"] == "true" && error?.details["not_processed"] == "true")
        // Well before the call's 10 s deadline: the gateway's wait (400 ms) and its attempts, and
        // the client's one repeat of a call not processed.
        #expect(ContinuousClock.now - started < .seconds(8))

        await gateway.close()
        await old.stop()
    }
}

extension LoopbackGateway {
    /// The ring key of Growth now names `shards` at `version`.
    fileprivate func ring(_ shards: [MovedRerouteTests.Shard], version: Int64) async {
        let record = RingRecord(version: version, service: "retain.v1.Growth", instances: shards.map(\.instance))
        await apply(key: keys.ring(service: "retain.v1.Growth"), value: record.json)
    }

    fileprivate func view(_ user: String) async throws -> Int64 {
        try await client.unary(
            Retain_V1_Growth.getGrowthView, Retain_V1_GetGrowthViewRequest(userId: user),
            options: CallOptions(timeout: .seconds(10))
        ).totalGrowth
    }
}
