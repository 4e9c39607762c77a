import Foundation
import Logging
import NIOCore
import RetainProto
@testable import RetainRPC
import Synchronization
import RetainWire
import Testing

/// Per-stream flow control (PROTOCOL.md §15): the window of one stream, and a server in this
/// process whose Expand streams large answers as fast as the caller lets it.
@Suite("Per-stream flow control", .serialized, .timeLimit(.minutes(2)))
struct FlowControlTests {
    /// Counts what a stream's producer got through.
    final class Produced: Sendable {
        let messages = Atomic<Int>(0)
        let finished = Atomic<Bool>(false)
        var count: Int { messages.load(ordering: .relaxed) }
        var done: Bool { finished.load(ordering: .relaxed) }
    }

    static let answerBytes = 4096

    /// A server whose Expand sends `count` answers of 4 KiB, awaiting room for each (`awaiting`)
    /// or writing them all at once; Echo answers at once.
    private func server(_ produced: Produced, awaiting: Bool = true) async throws -> (RPCServer, Int) {
        var router = RPCRouter()
        router.unary(Retain_V1_Echo.echo) { request, _ in Retain_V1_EchoResponse(text: request.text) }
        router.serverStreaming(Retain_V1_Echo.expand) { request, _, writer in
            let payload = [UInt8](repeating: 0x61, count: Self.answerBytes)
            for index in 0..<request.count {
                let answer = Retain_V1_EchoResponse(text: request.text, payload: payload, index: index)
                if awaiting { try await writer.send(answer) } else { try writer.write(answer) }
                produced.messages.add(1, ordering: .relaxed)
            }
            produced.finished.store(true, ordering: .relaxed)
        }
        var configuration = RPCServer.Configuration()
        configuration.drainTimeout = .milliseconds(500)
        let server = RPCServer(router: router, configuration: configuration, logger: Logger(label: "flow-control-test"))
        return (server, try await server.start().port!)
    }

    private func stop(_ server: RPCServer) async throws {
        server.drain()
        try await server.waitForConnectionsToClose()
    }

    @Test("a window holds MESSAGEs past its credit in order, a STATUS behind them, and lets them go as credit comes")
    func windowHoldsAndReleases() {
        func message(_ bytes: Int) -> ByteBuffer {
            var buffer = ByteBuffer()
            buffer.writeFrameHeader(type: .message, flags: [], requestID: 1, payloadLength: bytes)
            buffer.writeRepeatingByte(0, count: bytes)
            return buffer
        }
        var status = ByteBuffer()
        status.writeFrameHeader(type: .status, flags: [], requestID: 1, payloadLength: 0)
        var window = StreamWindow(bytes: 100)
        let first = window.offer(message(60), ends: false)
        #expect(first != nil && window.isOpen)
        // A message larger than what is left still goes while the window is positive.
        let second = window.offer(message(60), ends: false)
        #expect(second != nil && window.available == -20 && !window.isOpen)
        let third = window.offer(message(10), ends: false)
        let end = window.offer(status, ends: true)
        #expect(third == nil && end == nil)
        #expect(!window.isFinished && window.heldBytes == 22 + 12)
        let tooLittle = window.grant(20)
        #expect(tooLittle.isEmpty)
        let released = window.grant(5)
        #expect(released.map { StreamWindow.cost(of: $0) } == [10, 0])
        #expect(window.isFinished && window.heldBytes == 0 && window.available == -5)
    }

    @Test("a stream whose reader stops does not hold back unary calls on its connection, and the server sends it no more than its window")
    func stalledStreamDoesNotBlockUnary() async throws {
        let produced = Produced()
        let (server, port) = try await server(produced)
        var configuration = RPCClient.Configuration()
        configuration.streamWindowBytes = 64 << 10
        let client = RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
        let total: UInt32 = 1_000
        var iterator = client.serverStreaming(Retain_V1_Echo.expand, .init(text: "s", count: total)).makeAsyncIterator()
        #expect(try await iterator.next()?.index == 0)
        // The application stops reading; the producer soon stops too.
        try await Task.sleep(for: .milliseconds(300))
        let stalledAt = produced.count
        try await Task.sleep(for: .milliseconds(300))
        let sent = produced.count
        #expect(sent == stalledAt, "the producer kept going: \(stalledAt) then \(sent)")
        // 64 KiB of window (one answer taken, not yet granted back) and the one answer awaiting room.
        let perAnswer = Self.answerBytes + 16
        #expect(sent * perAnswer <= (64 << 10) + 2 * perAnswer, "\(sent) answers of ~\(perAnswer) bytes sent")
        #expect(!produced.done)

        var latencies: [Duration] = []
        for index in 0..<200 {
            let started = ContinuousClock.now
            #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "\(index)")).text == "\(index)")
            latencies.append(ContinuousClock.now - started)
        }
        latencies.sort()
        let p99 = latencies[latencies.count * 99 / 100]
        #expect(p99 < .milliseconds(50), "unary p99 \(p99) beside a stalled stream")

        // Reading again grants credit: the stream runs to its end, in order.
        var next: UInt32 = 1
        while let answer = try await iterator.next() {
            #expect(answer.index == next)
            next += 1
        }
        #expect(next == total)
        #expect(produced.done)
        await client.close()
        try await stop(server)
    }

    @Test("a client that asks for no window (the old behaviour) gets every answer without granting credit")
    func clientWithoutWindow() async throws {
        let produced = Produced()
        let (server, port) = try await server(produced)
        var configuration = RPCClient.Configuration()
        configuration.streamWindowBytes = 0
        let client = RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
        let total: UInt32 = 300
        var iterator = client.serverStreaming(Retain_V1_Echo.expand, .init(text: "o", count: total)).makeAsyncIterator()
        // Without reading a single answer, the producer finishes: nothing holds it back but TCP.
        let deadline = ContinuousClock.now + .seconds(10)
        while !produced.done, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(produced.done)
        var count: UInt32 = 0
        while let answer = try await iterator.next() {
            #expect(answer.index == count)
            count += 1
        }
        #expect(count == total)
        await client.close()
        try await stop(server)
    }

    @Test("a raw client that asks for a window and never grants gets FLOW_CONTROLLED answers up to its window, then nothing")
    func rawClientNeverGranting() async throws {
        let produced = Produced()
        // The producer writes without waiting: the server holds what the window does not let go.
        let (server, port) = try await server(produced, awaiting: false)
        let frames = try await RawConnection.sendAndReadUntilClose(port: port, closeAfter: .milliseconds(700)) { buffer in
            var header = ByteBuffer()
            header.writeProtoMessage(Retain_V1_CallHeader(method: Retain_V1_Echo.expand.path, windowBytes: 32 << 10))
            var message = ByteBuffer()
            message.writeProtoMessage(Retain_V1_ExpandRequest(text: "r", count: 100))
            var payload = ByteBuffer()
            payload.writeInteger(UInt32(header.readableBytes))
            payload.writeImmutableBuffer(header)
            payload.writeImmutableBuffer(message)
            buffer.writeFrame(Frame(type: .request, requestID: 1, payload: payload))
        }
        let messages = frames.filter { $0.type == .message }
        #expect(!messages.isEmpty)
        #expect(messages.allSatisfy { $0.flags.contains(.flowControlled) })
        let bytes = messages.reduce(0) { $0 + $1.payload.readableBytes }
        #expect(bytes < (32 << 10) + Self.answerBytes + 16, "\(bytes) bytes sent against a 32 KiB window")
        #expect(bytes >= 32 << 10)
        #expect(produced.done)
        try await stop(server)
    }

    @Test("WINDOW_UPDATE with a payload other than 4 bytes is a connection error")
    func malformedWindowUpdate() async throws {
        let produced = Produced()
        let (server, port) = try await server(produced)
        let frames = try await RawConnection.sendAndReadUntilClose(port: port, closeAfter: .seconds(5)) { buffer in
            var payload = ByteBuffer()
            payload.writeInteger(UInt16(1))
            buffer.writeFrame(Frame(type: .windowUpdate, requestID: 1, payload: payload))
        }
        let goAway = try #require(frames.last)
        #expect(goAway.type == .goAway)
        #expect(try goAway.payload.decodeProtoMessage(Retain_V1_GoAway.self).code == RPCStatusCode.invalidArgument.rawValue)
        try await stop(server)
    }
}
