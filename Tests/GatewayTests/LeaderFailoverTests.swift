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

/// The gateway in front of a replicated shard whose leader moves: a call refused by a replica
/// waits for the next leader and goes there without the caller noticing; calls that may have
/// been processed move only with an idempotency key. Real servers on loopback, the leader table
/// driven by hand (the watch that drives it in production is tested against etcd elsewhere).
@Suite("Gateway follows shard leaders", .serialized)
struct LeaderFailoverTests {
    /// A member of the shard: answers Echo as leader; as replica refuses like the services do.
    final class Member: Sendable {
        enum Role { case leader, replica, lost }

        /// What the handler reads: the role, and how many calls came.
        final class State: Sendable {
            let role: Mutex<Role>
            let calls = Atomic<Int>(0)
            init(_ role: Role) { self.role = Mutex(role) }
        }

        let name: String
        let state: State
        let server: RPCServer
        let port: Int

        init(_ name: String, _ role: Role) async throws {
            self.name = name
            let state = State(role)
            var router = RPCRouter()
            router.unary(Retain_V1_Echo.echo) { request, _ in
                state.calls.wrappingAdd(1, ordering: .relaxed)
                switch state.role.withLock({ $0 }) {
                case .leader:
                    return Retain_V1_EchoResponse(text: "\(name): \(request.text)")
                case .replica:
                    throw RPCError(
                        .unavailable, "not the leader",
                        details: ["not_processed": "true", "not_leader": "true"])
                case .lost:
                    // The leader lost its lease after it may have applied the call: fate unknown.
                    throw RPCError(.unavailable, "lease lost")
                }
            }
            var configuration = RPCServer.Configuration()
            configuration.host = "127.0.0.1"
            configuration.port = 0
            self.server = RPCServer(router: router, configuration: configuration, logger: Logger(label: "member"))
            self.state = state
            self.port = try await server.start().port!
        }

        var address: String { "127.0.0.1:\(port)" }
        var calls: Int { state.calls.load(ordering: .relaxed) }

        func become(_ role: Role) { state.role.withLock { $0 = role } }

        func stop() async {
            server.drain()
            try? await server.waitForConnectionsToClose()
        }
    }

    @Test("a call refused by the old leader (now a replica) waits for the watch to name the new one and is answered there")
    func refusedCallMovesToNewLeader() async throws {
        let a = try await Member("echo-0-a", .leader)
        let b = try await Member("echo-0-b", .replica)
        let gateway = try await LoopbackGateway()
        await gateway.lead(a, epoch: 1)
        #expect(try await gateway.echo("one") == "echo-0-a: one")

        // A steps down; etcd names B only 300 ms later.
        a.become(.replica)
        b.become(.leader)
        let started = ContinuousClock.now
        async let answer = gateway.echo("two")
        try await Task.sleep(for: .milliseconds(300))
        await gateway.lead(b, epoch: 2)
        #expect(try await answer == "echo-0-b: two")
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(try await gateway.echo("three") == "echo-0-b: three")
        await gateway.close()
        await a.stop()
        await b.stop()
    }

    @Test("a call to a shard with no leader waits for one; with none in the leader wait it fails as not processed")
    func waitsForALeader() async throws {
        let a = try await Member("echo-0-a", .leader)
        let gateway = try await LoopbackGateway(leaderWait: .milliseconds(600))
        await gateway.lead(a, epoch: 1)
        await gateway.lead(nil, epoch: 1)
        async let answer = gateway.echo("waiting")
        try await Task.sleep(for: .milliseconds(200))
        await gateway.lead(a, epoch: 2)
        #expect(try await answer == "echo-0-a: waiting")

        await gateway.lead(nil, epoch: 2)
        let started = ContinuousClock.now
        let error = await #expect(throws: RPCError.self) { _ = try await gateway.echo("nobody") }
        #expect(error?.code == .unavailable)
        #expect(error?.details["not_processed"] == "true")
        #expect(ContinuousClock.now - started < .seconds(8), "bounded by the leader wait, not by the call's 10 s deadline")
        await gateway.close()
        await a.stop()
    }

    @Test("a call the old leader may have applied moves to the new leader only with an idempotency key")
    func unknownFateNeedsAKey() async throws {
        let a = try await Member("echo-0-a", .lost)
        let b = try await Member("echo-0-b", .leader)
        let gateway = try await LoopbackGateway()
        await gateway.lead(a, epoch: 1)
        let error = await #expect(throws: RPCError.self) { _ = try await gateway.echo("no key") }
        #expect(error?.code == .unavailable)
        #expect(b.calls == 0)

        async let answer = gateway.echo("keyed", idempotencyKey: "key-1")
        try await Task.sleep(for: .milliseconds(200))
        await gateway.lead(b, epoch: 2)
        #expect(try await answer == "echo-0-b: keyed")
        await gateway.close()
        await a.stop()
        await b.stop()
    }

    @Test("a leader restarted at the same address and elected again is a new leader: a refused call goes on")
    func sameAddressNewEpoch() async throws {
        let a = try await Member("echo-0-a", .leader)
        let gateway = try await LoopbackGateway()
        await gateway.lead(a, epoch: 1)
        a.become(.replica)
        async let answer = gateway.echo("again")
        try await Task.sleep(for: .milliseconds(200))
        a.become(.leader)
        await gateway.lead(a, epoch: 2)
        #expect(try await answer == "echo-0-a: again")
        await gateway.close()
        await a.stop()
    }
}

extension LoopbackGateway {
    /// etcd names `member` (nil: nobody) the leader of `echo-0` in `epoch`.
    fileprivate func lead(_ member: LeaderFailoverTests.Member?, epoch: Int64) async {
        let value = member.map { LeaderRecord(member: $0.name, address: $0.address, epoch: epoch, service: "retain.v1.Echo").json }
        await apply(key: keys.leader(shard: "echo-0"), value: value)
    }

    fileprivate func echo(_ text: String, idempotencyKey: String = "", timeout: Duration = .seconds(10)) async throws -> String {
        try await client.unary(
            Retain_V1_Echo.echo, Retain_V1_EchoRequest(text: text),
            options: CallOptions(timeout: timeout, idempotencyKey: idempotencyKey)
        ).text
    }
}
