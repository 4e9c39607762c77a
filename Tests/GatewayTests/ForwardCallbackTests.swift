import GatewayCore
import GatewayService
import Logging
import NIOCore
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// A unary call forwarded from the gateway's event loop and answered from the backend
/// connection's callback, with no task: its cancellation still reaches the backend, and a first
/// attempt that failed goes on by the retry policy. Real servers on loopback.
@Suite("Gateway forwards unary calls from its event loop", .serialized)
struct ForwardCallbackTests {
    /// How a backend answers Echo.
    enum Mode: Sendable {
        case answer
        /// Refuses as a draining server does: never processed.
        case refuse
        /// Fails after it may have applied the call: fate unknown.
        case lose
    }

    /// A backend: answers Echo by its mode; Sleep sleeps, and says when a sleep was cancelled.
    final class Backend: Sendable {
        /// What the handlers read and count.
        final class State: Sendable {
            let mode: Mutex<Mode>
            let echoes = Atomic<Int>(0)
            let sleeping = Atomic<Int>(0)
            let cancelledSleeps = Atomic<Int>(0)
            init(_ mode: Mode) { self.mode = Mutex(mode) }
        }

        let name: String
        let state: State
        let server: RPCServer
        let port: Int

        init(_ name: String, _ mode: Mode = .answer) async throws {
            self.name = name
            let state = State(mode)
            var router = RPCRouter()
            router.unary(Retain_V1_Echo.echo) { request, _ in
                state.echoes.wrappingAdd(1, ordering: .relaxed)
                switch state.mode.withLock({ $0 }) {
                case .answer: return Retain_V1_EchoResponse(text: "\(name): \(request.text)")
                case .refuse: throw RPCError(.unavailable, "draining", details: ["not_processed": "true"])
                case .lose: throw RPCError(.unavailable, "connection lost")
                }
            }
            router.unaryAsync(Retain_V1_Echo.sleep) { request, _ in
                state.sleeping.wrappingAdd(1, ordering: .relaxed)
                do {
                    try await Task.sleep(for: .milliseconds(Int(request.durationMs)))
                } catch {
                    state.cancelledSleeps.wrappingAdd(1, ordering: .relaxed)
                    throw error
                }
                return Retain_V1_EchoResponse(text: request.text)
            }
            var configuration = RPCServer.Configuration()
            configuration.host = "127.0.0.1"
            configuration.port = 0
            server = RPCServer(router: router, configuration: configuration, logger: Logger(label: name))
            self.state = state
            port = try await server.start().port!
        }

        var instance: Topology.Instance { Topology.Instance(id: name, host: "127.0.0.1", port: port) }
        var echoes: Int { state.echoes.load(ordering: .relaxed) }
        var sleeping: Int { state.sleeping.load(ordering: .relaxed) }
        var cancelledSleeps: Int { state.cancelledSleeps.load(ordering: .relaxed) }

        func become(_ mode: Mode) { state.mode.withLock { $0 = mode } }

        func stop() async {
            server.drain()
            try? await server.waitForConnectionsToClose()
        }
    }

    /// Waits up to 5 s for `condition`.
    private func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test("a caller that cancels its call cancels the backend's call too, within moments")
    func cancellationReachesTheBackend() async throws {
        let backend = try await Backend("echo-0")
        let gateway = try await LoopbackGateway(topology: .echo([backend]))
        try await gateway.warmUp()
        for round in 1...3 {
            let call = Task {
                try await gateway.client.unary(
                    Retain_V1_Echo.sleep, Retain_V1_SleepRequest(durationMs: 20_000, text: "late"),
                    options: CallOptions(timeout: .seconds(30)))
            }
            try await eventually { backend.sleeping == round }
            #expect(backend.sleeping == round)
            call.cancel()
            try await eventually { backend.cancelledSleeps == round }
            #expect(backend.cancelledSleeps == round, "round \(round): the backend's call was not cancelled")
            await #expect(throws: RPCError.self) { _ = try await call.value }
        }
        await gateway.close()
        await backend.stop()
    }

    @Test("a first attempt refused as not processed goes on to another instance: every call is answered")
    func refusedFirstAttemptGoesOn() async throws {
        let a = try await Backend("echo-a")
        let b = try await Backend("echo-b")
        let gateway = try await LoopbackGateway(topology: .echo([a, b]))
        try await gateway.warmUp()
        a.become(.refuse)
        let refusedBefore = a.echoes
        for index in 0..<20 {
            #expect(try await gateway.echoOnce("call \(index)") == "echo-b: call \(index)")
        }
        #expect(a.echoes > refusedBefore, "no call started at the refusing instance")
        await gateway.close()
        await a.stop()
        await b.stop()
    }

    @Test("a first attempt whose fate is unknown goes on only with an idempotency key")
    func unknownFateNeedsAKey() async throws {
        let a = try await Backend("echo-a")
        let b = try await Backend("echo-b")
        let gateway = try await LoopbackGateway(topology: .echo([a, b]))
        try await gateway.warmUp()
        a.become(.lose)
        var failures = 0
        let (aBefore, bBefore) = (a.echoes, b.echoes)
        for index in 0..<20 {
            do {
                #expect(try await gateway.echo("plain \(index)") == "echo-b: plain \(index)")
            } catch let error as RPCError {
                #expect(error.code == .unavailable)
                failures += 1
            }
        }
        let (aCalls, bCalls) = (a.echoes - aBefore, b.echoes - bBefore)
        #expect(failures > 0, "no call started at the failing instance")
        #expect(failures == aCalls, "each call that reached the failing instance fails, none goes on")
        #expect(bCalls == 20 - failures)
        for index in 0..<20 {
            #expect(try await gateway.echo("keyed \(index)", idempotencyKey: "key-\(index)") == "echo-b: keyed \(index)")
        }
        await gateway.close()
        await a.stop()
        await b.stop()
    }
}

extension Topology {
    /// `retain.v1.Echo` served by `backends`.
    fileprivate static func echo(_ backends: [ForwardCallbackTests.Backend]) -> Topology {
        Topology(services: [Topology.Service(name: "retain.v1.Echo", instances: backends.map(\.instance))])
    }
}

extension LoopbackGateway {
    fileprivate func echo(_ text: String, idempotencyKey: String = "") async throws -> String {
        try await client.unary(
            Retain_V1_Echo.echo, Retain_V1_EchoRequest(text: text),
            options: CallOptions(timeout: .seconds(10), idempotencyKey: idempotencyKey)
        ).text
    }

    /// One Echo call that this client does not send again itself: a refusal as not processed
    /// comes back as the gateway answered it.
    fileprivate func echoOnce(_ text: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let started = client.startUnary(
                Retain_V1_Echo.echo, Retain_V1_EchoRequest(text: text), options: CallOptions(timeout: .seconds(10))
            ) { result in
                continuation.resume(with: result.map(\.text))
            }
            if !started { continuation.resume(throwing: RPCError(.unavailable, "no connection to the gateway")) }
        }
    }

    /// Calls until the backend connections are up (the first calls connect them), so the
    /// calls after start from the event loop.
    fileprivate func warmUp() async throws {
        for index in 0..<8 {
            _ = try? await echo("warm-up \(index)")
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
