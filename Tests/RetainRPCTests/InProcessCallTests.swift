import Logging
import NIOCore
import RetainAuth
import RetainProto
@testable import RetainRPC
import RetainWire
import Synchronization
import Testing

/// Calls handed to a server inside the process (`RPCServer.inProcessCalls`, the gateway's gRPC
/// front door): the same handlers, checks, deadlines and cancellation as calls from a connection,
/// with no connection at all.
@Suite("In-process calls", .serialized, .timeLimit(.minutes(1)))
struct InProcessCallTests {
    /// Accepts "good" (scope echo:read) and "profile" (scope profile:read); refuses the rest.
    struct Authenticator: CallAuthenticator {
        func authenticate(_ authorization: String) throws(RPCError) -> Caller {
            switch authorization {
            case "good": return Caller(id: "good", issuer: "test", scopes: ScopeSet.read("echo")!)
            case "profile": return Caller(id: "profile", issuer: "test", scopes: ScopeSet.read("profile")!)
            default: throw RPCError(.unauthenticated, "not a credential of this test")
            }
        }
    }

    /// Whether a handler saw its call cancelled.
    final class Cancelled: Sendable {
        private let flag = Atomic<Bool>(false)
        var seen: Bool { flag.load(ordering: .relaxed) }
        func mark() { flag.store(true, ordering: .relaxed) }
    }

    /// A server (never started: no socket) with Echo, Sleep (which records its cancellation),
    /// Expand, Fail, and a fallback that answers its path.
    func server(authenticating: Bool = false, cancelled: Cancelled = Cancelled()) -> RPCServer {
        var router = RPCRouter()
        router.unary(Retain_V1_Echo.echo) { request, context in
            Retain_V1_EchoResponse(text: request.text + (context.caller.map { " from \($0.id)" } ?? ""))
        }
        router.unaryAsync(Retain_V1_Echo.sleep) { request, context in
            do {
                try await Task.sleep(for: .milliseconds(Int(request.durationMs)))
            } catch {
                cancelled.mark()
                throw error
            }
            return Retain_V1_EchoResponse(text: "\(request.text) trace=\(context.traceID)")
        }
        router.serverStreaming(Retain_V1_Echo.expand) { request, _, writer in
            for index in 0..<request.count { try await writer.send(Retain_V1_EchoResponse(text: request.text, index: index)) }
        }
        router.unary(Retain_V1_Echo.fail) { request, _ in
            throw RPCError(RPCStatusCode(rawValue: request.code), request.message, details: ["why": "asked"])
        }
        router.fallback { path, request, _, responder in
            var answer = ByteBuffer()
            answer.writeString(path)
            answer.writeImmutableBuffer(request)
            responder.succeed(encoded: answer)
        }
        var configuration = RPCServer.Configuration()
        if authenticating { configuration.authenticator = Authenticator() }
        return RPCServer(router: router, configuration: configuration, logger: Logger(label: "in-process-test"))
    }

    func encoded<M: ProtoMessage>(_ message: M) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeProtoMessage(message)
        return buffer
    }

    func status(_ call: InProcessCall) async -> RPCError? {
        do {
            while try await call.next() != nil {}
            return nil
        } catch {
            return error
        }
    }

    @Test("a unary call answers with the handler's message bytes, a fallback path reaches the fallback")
    func unary() async throws {
        let calls = server().inProcessCalls
        let answer = try await calls.start(
            path: "retain.v1.Echo/Echo", request: encoded(Retain_V1_EchoRequest(text: "hi")), options: .default
        ).answer()
        #expect(try answer.decodeProtoMessage(Retain_V1_EchoResponse.self).text == "hi")
        var request = ByteBuffer()
        request.writeString("|raw")
        let forwarded = try await calls.start(path: "some.Other/Method", request: request, options: .default).answer()
        #expect(String(buffer: forwarded) == "some.Other/Method|raw")
    }

    @Test("a handler's error comes back as its status: code, message and details")
    func failure() async throws {
        let call = server().inProcessCalls.start(
            path: "retain.v1.Echo/Fail", request: encoded(Retain_V1_FailRequest(code: 9, message: "nope")), options: .default)
        let error = await status(call)
        #expect(error == RPCError(.failedPrecondition, "nope", details: ["why": "asked"]))
    }

    @Test("a server-streaming call gives every answer in order, then ends")
    func streaming() async throws {
        let call = server().inProcessCalls.start(
            path: "retain.v1.Echo/Expand", request: encoded(Retain_V1_ExpandRequest(text: "x", count: 40)), options: .default)
        var indexes: [UInt32] = []
        while let answer = try await call.next() {
            indexes.append(try answer.decodeProtoMessage(Retain_V1_EchoResponse.self).index)
        }
        #expect(indexes == Array(0..<40))
    }

    @Test("the deadline in the options ends the call with DEADLINE_EXCEEDED and cancels its handler")
    func deadline() async throws {
        let cancelled = Cancelled()
        let started = ContinuousClock.now
        let call = server(cancelled: cancelled).inProcessCalls.start(
            path: "retain.v1.Echo/Sleep", request: encoded(Retain_V1_SleepRequest(durationMs: 10_000)),
            options: CallOptions(timeout: .milliseconds(100)))
        let error = await status(call)
        #expect(error?.code == .deadlineExceeded)
        #expect(ContinuousClock.now - started < .seconds(5))
        try await Task.sleep(for: .milliseconds(100))
        #expect(cancelled.seen)
    }

    @Test("cancelling the call (or the task reading it) cancels its handler")
    func cancellation() async throws {
        let cancelled = Cancelled()
        let calls = server(cancelled: cancelled).inProcessCalls
        let call = calls.start(
            path: "retain.v1.Echo/Sleep", request: encoded(Retain_V1_SleepRequest(durationMs: 10_000)), options: .default)
        let reader = Task { await status(call) }
        try await Task.sleep(for: .milliseconds(50))
        reader.cancel()
        #expect(await reader.value?.code == .cancelled)
        try await Task.sleep(for: .milliseconds(100))
        #expect(cancelled.seen)
    }

    @Test("the header's trace id reaches the handler")
    func header() async throws {
        let answer = try await server().inProcessCalls.start(
            path: "retain.v1.Echo/Sleep", request: encoded(Retain_V1_SleepRequest(durationMs: 1, text: "t")),
            options: CallOptions(traceID: "abc123")
        ).answer()
        #expect(try answer.decodeProtoMessage(Retain_V1_EchoResponse.self).text == "t trace=abc123")
    }

    @Test("credentials and scopes are checked as on a connection; the handler sees the verified caller")
    func credentials() async throws {
        let calls = server(authenticating: true).inProcessCalls
        let request = encoded(Retain_V1_EchoRequest(text: "hi"))
        let refused = [("", RPCStatusCode.unauthenticated), ("forged", .unauthenticated), ("profile", .permissionDenied)]
        for (authorization, code) in refused {
            let error = await status(
                calls.start(path: "retain.v1.Echo/Echo", request: request, options: CallOptions(authorization: authorization)))
            #expect(error?.code == code, "\(authorization)")
        }
        let fallback = await status(calls.start(path: "some.Other/Method", request: request, options: CallOptions(authorization: "good")))
        #expect(fallback?.code == .permissionDenied, "a path the access table does not know needs admin")
        let answer = try await calls.start(path: "retain.v1.Echo/Echo", request: request, options: CallOptions(authorization: "good"))
            .answer()
        #expect(try answer.decodeProtoMessage(Retain_V1_EchoResponse.self).text == "hi from good")
    }

    @Test("an unknown method is UNIMPLEMENTED without a fallback; a draining server refuses calls as not processed")
    func refusals() async throws {
        let plain = RPCServer(router: RPCRouter(), logger: Logger(label: "in-process-test"))
        let unknown = await status(plain.inProcessCalls.start(path: "retain.v1.Nope/Nope", request: ByteBuffer(), options: .default))
        #expect(unknown?.code == .unimplemented)
        let health = try await plain.inProcessCalls.start(
            path: "retain.v1.Health/Check", request: encoded(Retain_V1_HealthCheckRequest()), options: .default
        ).answer()
        #expect(try health.decodeProtoMessage(Retain_V1_HealthCheckResponse.self).status == .serving)
        plain.drain()
        let drained = await status(plain.inProcessCalls.start(path: "retain.v1.Echo/Echo", request: ByteBuffer(), options: .default))
        #expect(drained?.code == .unavailable)
        #expect(drained?.details["not_processed"] == "true")
    }
}
