import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// `RPCClient.startUnary`: a unary call started without suspending, answered through a callback.
@Suite("RPC client: unary calls started without waiting", .serialized)
struct StartUnaryTests {
    final class Outcomes: Sendable {
        let results = Mutex<[Result<Retain_V1_EchoResponse, any Error>]>([])
        var count: Int { results.withLock { $0.count } }
        func add(_ result: Result<Retain_V1_EchoResponse, any Error>) { results.withLock { $0.append(result) } }

        /// Waits (up to 5 s) until `count` outcomes arrived.
        func wait(for count: Int) async throws {
            for _ in 0..<500 where self.count < count { try await Task.sleep(for: .milliseconds(10)) }
        }
    }

    @Test("nothing starts without a connection up; once one is, answers and errors reach the callback")
    func startUnary() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let outcomes = Outcomes()
        let startedCold = client.startUnary(Retain_V1_Echo.echo, .init(text: "cold")) { outcomes.add($0) }
        #expect(!startedCold, "no connection is up yet: the caller must connect with unary")
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "warm up")).text == "warm up")

        for index in 0..<8 {
            #expect(client.startUnary(Retain_V1_Echo.echo, .init(text: "\(index)")) { outcomes.add($0) })
        }
        try await outcomes.wait(for: 8)
        let texts = outcomes.results.withLock { $0.compactMap { try? $0.get().text } }
        #expect(texts.sorted() == (0..<8).map { "\($0)" }.sorted())

        // A deadline that passes fails the call through the same callback.
        let late = Outcomes()
        #expect(
            client.startUnary(Retain_V1_Echo.sleep, .init(durationMs: 5_000), options: .init(timeout: .milliseconds(100))) {
                late.add($0)
            })
        try await late.wait(for: 1)
        let failure = try #require(late.results.withLock { $0.first })
        #expect(throws: RPCError(.deadlineExceeded, "deadline exceeded")) { _ = try failure.get() }
        await client.close()
        server.stop()
    }
}
