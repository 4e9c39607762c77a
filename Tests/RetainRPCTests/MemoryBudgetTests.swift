import Logging
import NIOCore
import NIOPosix
import RetainProto
@testable import RetainRPC
import RetainWire
import Testing

/// The process-wide memory budget (SECURITY.md, "Limits against hostile clients"): what every
/// connection holds counts (incoming frames and answers waiting for stream credit), and past the
/// budget the heaviest connection goes first, not whichever asked last.
@Suite("Memory budget", .serialized, .timeLimit(.minutes(2)))
struct MemoryBudgetTests {
    static let answerBytes = 4096

    /// A server whose Expand writes all its answers at once (never waiting for room), under a
    /// 1 MiB memory budget.
    private func server() async throws -> (RPCServer, Int) {
        var router = RPCRouter()
        router.unary(Retain_V1_Echo.echo) { request, _ in Retain_V1_EchoResponse(text: request.text) }
        router.serverStreaming(Retain_V1_Echo.expand) { request, _, writer in
            let payload = [UInt8](repeating: 0x62, count: Self.answerBytes)
            for index in 0..<request.count {
                try writer.write(Retain_V1_EchoResponse(text: request.text, payload: payload, index: index))
            }
        }
        var configuration = RPCServer.Configuration()
        configuration.memoryBudget = 1 << 20
        configuration.drainTimeout = .milliseconds(200)
        let server = RPCServer(router: router, configuration: configuration, logger: Logger(label: "memory-budget-test"))
        return (server, try await server.start().port!)
    }

    private func connect(_ port: Int) async throws -> NIOAsyncChannel<Frame, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maximumPayloadSize: 8 << 20)))
                    return try NIOAsyncChannel<Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    private func request<M: ProtoMessage>(_ id: UInt32, _ header: Retain_V1_CallHeader, _ message: M) -> ByteBuffer {
        var frame = ByteBuffer()
        RequestPayload.writeFrame(requestID: id, header: header, message: message, into: &frame)
        return frame
    }

    @Test("past the budget the heaviest connection is shed (answers held for stream credit count), not the one asking last")
    func heaviestConnectionShedFirst() async throws {
        let (server, port) = try await server()

        // Heavy: asks for a 16 KiB window on 200 answers of 4 KiB and never grants; the server
        // holds about 780 KiB of its answers.
        let heavy = try await connect(port)
        // Light: a 600 KiB Echo, sent in two halves; its first half takes the total past 1 MiB.
        let light = try await connect(port)
        let echo = request(
            1, Retain_V1_CallHeader(method: Retain_V1_Echo.echo.path),
            Retain_V1_EchoRequest(text: String(repeating: "l", count: 600 << 10)))
        let half = echo.readableBytes / 2

        let (heavyFrames, lightFrames) = try await heavy.executeThenClose { heavyIn, heavyOut in
            try await light.executeThenClose { lightIn, lightOut in
                try await heavyOut.write(
                    request(
                        1, Retain_V1_CallHeader(method: Retain_V1_Echo.expand.path, windowBytes: 16 << 10),
                        Retain_V1_ExpandRequest(text: "h", count: 200)))
                var heavyIterator = heavyIn.makeAsyncIterator()
                var heavyFrames: [Frame] = []
                // Its window's worth arrives; the rest is held.
                while heavyFrames.count < 4, let frame = try await heavyIterator.next() { heavyFrames.append(frame) }
                try await Task.sleep(for: .milliseconds(200))

                try await lightOut.write(echo.getSlice(at: echo.readerIndex, length: half)!)
                // The heavy connection is shed: GOAWAY RESOURCE_EXHAUSTED, then the end.
                do {
                    while let frame = try await heavyIterator.next() { heavyFrames.append(frame) }
                } catch {
                    // A reset after GOAWAY ends it too.
                }
                try await lightOut.write(echo.getSlice(at: echo.readerIndex + half, length: echo.readableBytes - half)!)
                var lightFrames: [Frame] = []
                for try await frame in lightIn {
                    lightFrames.append(frame)
                    if frame.type == .message || frame.type == .status || frame.type == .goAway { break }
                }
                return (heavyFrames, lightFrames)
            }
        }

        let goAway = try #require(heavyFrames.last { $0.type == .goAway })
        let status = try goAway.payload.decodeProtoMessage(Retain_V1_GoAway.self)
        #expect(status.code == RPCStatusCode.resourceExhausted.rawValue)
        #expect(status.message.contains("memory budget"))
        // The light connection was kept and served.
        let answer = try #require(lightFrames.last)
        #expect(answer.type == .message)
        #expect(try answer.payload.decodeProtoMessage(Retain_V1_EchoResponse.self).text.count == 600 << 10)

        server.drain()
        try await server.waitForConnectionsToClose()
    }
}
