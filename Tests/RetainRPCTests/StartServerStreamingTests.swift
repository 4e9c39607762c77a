import Logging
import NIOCore
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// `RPCClient.startServerStreaming`: a stream whose answers are handed to a callback on the
/// connection's event loop (the replica's follow stream).
@Suite("RPC client: streams answered through a callback", .serialized, .timeLimit(.minutes(2)))
struct StartServerStreamingTests {
    final class Received: Sendable {
        let indexes = Mutex<[UInt32]>([])
        let end = Mutex<Result<Void, any Error>?>(nil)
        let ends = Atomic<Int>(0)

        func answer(_ answer: Retain_V1_EchoResponse) { indexes.withLock { $0.append(answer.index) } }

        func ended(_ error: (any Error)?) {
            ends.add(1, ordering: .relaxed)
            end.withLock { $0 = error.map { .failure($0) } ?? .success(()) }
        }

        /// Waits (up to 10 s) until the call ended.
        func waitForEnd() async throws {
            for _ in 0..<1000 where end.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(10)) }
        }
    }

    /// A server whose Expand sends `count` answers of 4 KiB, each awaiting room in the stream's
    /// window, and whose Sleep streams nothing for its duration.
    private func server() async throws -> (RPCServer, Int) {
        var router = RPCRouter()
        router.serverStreaming(Retain_V1_Echo.expand) { request, _, writer in
            let payload = [UInt8](repeating: 0x61, count: 4096)
            for index in 0..<request.count {
                try await writer.send(Retain_V1_EchoResponse(text: request.text, payload: payload, index: index))
            }
            if request.text == "fail" { throw RPCError(.failedPrecondition, "asked to fail") }
        }
        var configuration = RPCServer.Configuration()
        configuration.drainTimeout = .milliseconds(500)
        let server = RPCServer(router: router, configuration: configuration, logger: Logger(label: "start-stream-test"))
        return (server, try await server.start().port!)
    }

    @Test("every answer reaches the callback in order, past many windows, and the end is told once")
    func answersInOrder() async throws {
        let (server, port) = try await server()
        var configuration = RPCClient.Configuration()
        configuration.streamWindowBytes = 64 << 10
        let client = RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
        let received = Received()
        // 2,000 answers of 4 KiB: 8 MB through a 64 KiB window, so the callback must grant it back.
        _ = try await client.startServerStreaming(
            Retain_V1_Echo.expand, .init(text: "x", count: 2_000), onAnswer: { received.answer($0) },
            onEnd: { received.ended($0) })
        try await received.waitForEnd()
        #expect(received.indexes.withLock { $0 } == Array(0..<2_000))
        #expect(throws: Never.self) { try #require(received.end.withLock { $0 }).get() }
        #expect(received.ends.load(ordering: .relaxed) == 1)

        let failing = Received()
        _ = try await client.startServerStreaming(
            Retain_V1_Echo.expand, .init(text: "fail", count: 3), onAnswer: { failing.answer($0) },
            onEnd: { failing.ended($0) })
        try await failing.waitForEnd()
        #expect(failing.indexes.withLock { $0 } == [0, 1, 2])
        let error = try #require(failing.end.withLock { $0 })
        #expect(throws: RPCError(.failedPrecondition, "asked to fail")) { try error.get() }
        await client.close()
        server.drain()
        try await server.waitForConnectionsToClose()
    }

    @Test("cancel stops the stream: the end is told CANCELLED once and no answer follows it")
    func cancel() async throws {
        let (server, port) = try await server()
        var configuration = RPCClient.Configuration()
        configuration.streamWindowBytes = 16 << 10
        let client = RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
        let received = Received()
        let call = try await client.startServerStreaming(
            Retain_V1_Echo.expand, .init(text: "x", count: 1_000_000), onAnswer: { received.answer($0) },
            onEnd: { received.ended($0) })
        for _ in 0..<500 where received.indexes.withLock({ $0.count }) < 10 { try await Task.sleep(for: .milliseconds(10)) }
        call.cancel()
        call.cancel()
        try await received.waitForEnd()
        let error = try #require(received.end.withLock { $0 })
        #expect(throws: RPCError(.cancelled, "cancelled by the caller")) { try error.get() }
        let count = received.indexes.withLock { $0.count }
        try await Task.sleep(for: .milliseconds(200))
        #expect(received.indexes.withLock { $0.count } == count, "no answer after the end")
        #expect(received.ends.load(ordering: .relaxed) == 1)
        // The connection goes on serving.
        let after = Received()
        _ = try await client.startServerStreaming(
            Retain_V1_Echo.expand, .init(text: "y", count: 2), onAnswer: { after.answer($0) }, onEnd: { after.ended($0) })
        try await after.waitForEnd()
        #expect(after.indexes.withLock { $0 } == [0, 1])
        await client.close()
        server.drain()
        try await server.waitForConnectionsToClose()
    }
}
