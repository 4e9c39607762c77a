import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import RetainEtcd
import Synchronization
import Testing

@Suite("etcd HTTP handlers on an EmbeddedChannel")
struct EtcdHandlerTests {
    private func responseChannel(maximumBodySize: Int = 64) throws -> (EmbeddedChannel, EtcdResponseHandler) {
        let handler = EtcdResponseHandler(maximumBodySize: maximumBodySize)
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2379)).wait()
        return (channel, handler)
    }

    private func send(
        _ handler: EtcdResponseHandler, on channel: EmbeddedChannel,
        timeout: TimeAmount = .seconds(2)
    ) -> EventLoopFuture<EtcdHTTPResponse> {
        let promise = channel.eventLoop.makePromise(of: EtcdHTTPResponse.self)
        let endpoint = EtcdEndpoint("127.0.0.1:2379")!
        handler.send(
            EtcdHTTPConnection.requestHead("/v3/kv/range", endpoint: endpoint, contentLength: 2),
            body: ByteBuffer(string: "{}"), timeout: timeout, promise: promise)
        return promise.futureResult
    }

    private func result(_ future: EventLoopFuture<EtcdHTTPResponse>) -> Result<EtcdHTTPResponse, any Error>? {
        let result = Mutex<Result<EtcdHTTPResponse, any Error>?>(nil)
        future.whenComplete { value in result.withLock { $0 = value } }
        return result.withLock { $0 }
    }

    @Test("a request is written whole and its answer, in chunks, completes it; the connection stays open")
    func exchange() throws {
        let (channel, handler) = try responseChannel()
        let answer = send(handler, on: channel)
        guard case .head(let head) = try channel.readOutbound(as: HTTPClientRequestPart.self) else {
            Issue.record("no request head")
            return
        }
        #expect(head.method == .POST && head.uri == "/v3/kv/range" && head.headers["Content-Length"] == ["2"])
        guard case .body(.byteBuffer(let body)) = try channel.readOutbound(as: HTTPClientRequestPart.self) else {
            Issue.record("no request body")
            return
        }
        #expect(String(buffer: body) == "{}")
        #expect(try channel.readOutbound(as: HTTPClientRequestPart.self) == .end(nil))

        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: #"{"header":"#)))
        #expect(result(answer) == nil)
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "{}}")))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        let response = try #require(try result(answer)?.get())
        #expect(response.status == 200 && String(buffer: response.body) == #"{"header":{}}"# && response.keepAlive)
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test("no answer within the timeout fails the request as timedOut and closes the connection")
    func timeout() throws {
        let (channel, handler) = try responseChannel()
        let answer = send(handler, on: channel, timeout: .milliseconds(500))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(499))
        #expect(result(answer) == nil)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        guard case .failure(EtcdTransportFailure.timedOut) = result(answer) else {
            Issue.record("expected timedOut, got \(String(describing: result(answer)))")
            return
        }
        #expect(!channel.isActive)
    }

    @Test("an answer larger than the limit fails before it is buffered; a close before the answer fails as closed")
    func limits() throws {
        let (channel, handler) = try responseChannel(maximumBodySize: 8)
        let large = send(handler, on: channel)
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "123456789")))
        guard case .failure(EtcdTransportFailure.malformed) = result(large) else {
            Issue.record("expected malformed, got \(String(describing: result(large)))")
            return
        }
        #expect(!channel.isActive)

        let (other, otherHandler) = try responseChannel()
        let cut = send(otherHandler, on: other)
        other.pipeline.fireChannelInactive()
        guard case .failure(EtcdTransportFailure.closed) = result(cut) else {
            Issue.record("expected closed, got \(String(describing: result(cut)))")
            return
        }
    }

    @Test("a watch stream is cut into lines across chunks, and its end is reported once")
    func watchLines() throws {
        let lines = Mutex<[String]>([])
        let ends = Mutex<[(String, Bool)]>([])
        let handler = EtcdWatchHandler(
            maximumLineLength: 1024, firstLineTimeout: .seconds(1), idleTimeout: nil,
            onLine: { line in
                lines.withLock { $0.append(String(decoding: line, as: UTF8.self)) }
                return true
            },
            onEnd: { error, suspect in ends.withLock { $0.append((error.message, suspect)) } })
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2379)).wait()
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "{\"a\":1}\n{\"b\"")))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: ":2}\n")))
        #expect(lines.withLock { $0 } == [#"{"a":1}"#, #"{"b":2}"#])
        // Without an idle timeout, a quiet watch after its first line stays open.
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive && ends.withLock { $0.isEmpty })
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(ends.withLock { $0.count } == 1 && ends.withLock { $0[0].1 } == false)
        #expect(!channel.isActive)
    }

    @Test("a watch that etcd never confirms ends after the first-line timeout, marking the member suspect")
    func watchNeverConfirmed() throws {
        let ends = Mutex<[Bool]>([])
        let handler = EtcdWatchHandler(
            maximumLineLength: 1024, firstLineTimeout: .milliseconds(500), idleTimeout: .seconds(3),
            onLine: { _ in true }, onEnd: { _, suspect in ends.withLock { $0.append(suspect) } })
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2379)).wait()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        #expect(ends.withLock { $0 } == [true])
        #expect(!channel.isActive)
    }
}
