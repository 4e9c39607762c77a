import Foundation
import Logging
import NIOCore
import RetainProto
@testable import RetainRPC
import Synchronization
import Testing

/// A stream's answers handed over from several threads: a write on the connection's event loop
/// goes at once, so it overtakes an answer another thread queued on that loop just before;
/// `writeInOrder` keeps the order in which the answers were handed over (the leader's live
/// feed sends a replica's batches from the committer's thread and from an acknowledgement's
/// event loop, and an overtaking batch is a gap the replica refuses).
@Suite("Stream answers from several threads", .serialized, .timeLimit(.minutes(1)))
struct StreamOrderTests {
    final class Writers: Sendable {
        let writer = Mutex<RPCStreamWriter<Retain_V1_EchoResponse>?>(nil)
    }

    /// A server whose Expand keeps its stream open and lends its writer; whose Echo, on the
    /// connection's event loop, has another thread write answer 1 (queued on the loop), waits
    /// for it, then writes answer 2 itself: with `writeInOrder` when the text says "in-order".
    private func server(_ writers: Writers) async throws -> (RPCServer, Int) {
        var router = RPCRouter()
        router.serverStreaming(Retain_V1_Echo.expand) { _, _, writer in
            writers.writer.withLock { $0 = writer }
            try await Task.sleep(for: .seconds(30))
        }
        router.unary(Retain_V1_Echo.echo) { request, _ in
            guard let writer = writers.writer.withLock({ $0 }) else { return Retain_V1_EchoResponse(text: "no stream") }
            let queued = DispatchSemaphore(value: 0)
            Thread {
                try? writer.write(Retain_V1_EchoResponse(text: "other thread", index: 1))
                queued.signal()
            }.start()
            queued.wait()
            let second = Retain_V1_EchoResponse(text: "event loop", index: 2)
            if request.text == "in-order" { try writer.writeInOrder(second) } else { try writer.write(second) }
            return Retain_V1_EchoResponse(text: "written")
        }
        let server = RPCServer(router: router, configuration: RPCServer.Configuration(), logger: Logger(label: "stream-order-test"))
        return (server, try await server.start().port!)
    }

    /// The indexes of the stream's first two answers after Echo(`text`) wrote them.
    private func firstTwo(text: String) async throws -> [UInt32] {
        let writers = Writers()
        let (server, port) = try await server(writers)
        let client = RPCClient(host: "127.0.0.1", port: port)
        let stream = client.serverStreaming(Retain_V1_Echo.expand, Retain_V1_ExpandRequest(text: "s", count: 1))
        var answers = stream.makeAsyncIterator()
        let reader = Task {
            var indexes: [UInt32] = []
            while indexes.count < 2, let answer = try await answers.next() { indexes.append(answer.index) }
            return indexes
        }
        while writers.writer.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(5)) }
        let echoed = try await client.unary(Retain_V1_Echo.echo, Retain_V1_EchoRequest(text: text))
        #expect(echoed.text == "written")
        let indexes = try await reader.value
        await client.close()
        server.drain()
        return indexes
    }

    @Test("writeInOrder on the event loop goes after what another thread queued there before")
    func inOrder() async throws {
        #expect(try await firstTwo(text: "in-order") == [1, 2])
    }

    @Test("write on the event loop goes at once, ahead of what another thread queued there (why writeInOrder exists)")
    func writeOvertakes() async throws {
        #expect(try await firstTwo(text: "direct") == [2, 1])
    }
}
