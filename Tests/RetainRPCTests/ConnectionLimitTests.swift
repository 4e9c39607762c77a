import Foundation
import NIOCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// The limits of PROTOCOL.md §14–15 against a real `retain-echo`: each misbehaving client ends
/// in its documented error while a healthy client on its own connection keeps being served,
/// during the fault and after it.
@Suite("connection limits", .serialized)
struct ConnectionLimitTests {
    @Test("a sender that trickles a frame is cut off with GOAWAY DEADLINE_EXCEEDED; others are served meanwhile")
    func slowSender() async throws {
        let server = try ServerProcess("retain-echo", arguments: ["--frame-timeout-ms", "1500"])
        let healthy = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await healthy.unary(Retain_V1_Echo.echo, .init(text: "before")).text == "before")
        let port = server.port
        // A header announcing 100 bytes, then one byte every 100 ms: the whole frame would take
        // 10 s, far beyond the 1.5 s frame timeout.
        let trickler = Task.detached { () throws -> (bytes: [UInt8], closed: Bool) in
            let socket = try PlainSocket(port: port)
            var header = ByteBuffer()
            header.writeFrameHeader(type: .request, flags: [], requestID: 1, payloadLength: 100)
            try socket.send(Array(header.readableBytesView))
            for _ in 0..<100 where !socket.isReadable {
                guard (try? socket.send([0])) != nil else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            return socket.readUntilClose(timeout: .seconds(30))
        }
        // While the sender trickles, another connection is served.
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await healthy.unary(Retain_V1_Echo.echo, .init(text: "during")).text == "during")
        let (bytes, closed) = try await trickler.value
        #expect(closed, "the server must close the slow sender's connection")
        let goAway = try #require(try PlainSocket.frames(in: bytes).last)
        #expect(goAway.type == .goAway)
        #expect(try goAway.payload.decodeProtoMessage(Retain_V1_GoAway.self).code == RPCStatusCode.deadlineExceeded.rawValue)
        #expect(try await healthy.unary(Retain_V1_Echo.echo, .init(text: "after")).text == "after")
        await healthy.close()
        #expect(server.stop() == 0)
    }

    @Test("an idle connection is closed with a graceful GOAWAY and the client reconnects")
    func idle() async throws {
        let server = try ServerProcess("retain-echo", arguments: ["--idle-timeout-ms", "200"])
        let frames = try await RawConnection.sendAndReadUntilClose(port: server.port) { _ in }
        let goAway = try #require(frames.last)
        #expect(goAway.type == .goAway)
        #expect(try goAway.payload.decodeProtoMessage(Retain_V1_GoAway.self).code == 0)
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "one")).text == "one")
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "two")).text == "two")
        await client.close()
        server.stop()
    }

    @Test("a flood of connections beyond the maximum is closed at once without a frame; admitted clients keep working")
    func connectionFlood() async throws {
        let server = try ServerProcess("retain-echo", arguments: ["--max-connections", "4"])
        let clients = (0..<4).map { _ in RPCClient(host: "127.0.0.1", port: server.port) }
        for client in clients { #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "in")).text == "in") }
        let port = server.port
        // 100 more connections, opened as fast as they go, while the admitted clients call.
        let flood = Task.detached { () throws -> [(bytes: [UInt8], closed: Bool)] in
            let sockets = try (0..<100).map { _ in try PlainSocket(port: port) }
            return sockets.map { $0.readUntilClose(timeout: .seconds(20)) }
        }
        for round in 0..<5 {
            for client in clients {
                #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "during \(round)")).text == "during \(round)")
            }
        }
        let refused = try await flood.value
        #expect(refused.allSatisfy { $0.closed && $0.bytes.isEmpty }, "every connection over the limit is closed at once, without a GOAWAY")
        // An RPC client over the limit sees the close as a failed call.
        let extra = RPCClient(host: "127.0.0.1", port: server.port)
        await #expect(throws: RPCError.self) { _ = try await extra.unary(Retain_V1_Echo.echo, .init(text: "out")) }
        for client in clients { #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "still")).text == "still") }
        for client in clients + [extra] { await client.close() }
        #expect(server.stop() == 0)
    }

    @Test("a frame header claiming 4 GiB gets GOAWAY RESOURCE_EXHAUSTED before any body is buffered; others are served")
    func fourGiBFrame() async throws {
        let server = try ServerProcess("retain-echo")
        let healthy = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await healthy.unary(Retain_V1_Echo.echo, .init(text: "before")).text == "before")
        let port = server.port
        // Eight liars at once, each sending the header and the start of a body.
        let liars = Task.detached { () throws -> [(bytes: [UInt8], closed: Bool)] in
            let sockets = try (0..<8).map { _ in try PlainSocket(port: port) }
            for socket in sockets {
                var header = ByteBuffer()
                header.writeMultipleIntegers(UInt32.max, Frame.version, FrameType.request.rawValue, UInt8(0), UInt8(0), UInt32(1))
                try? socket.send(Array(header.readableBytesView) + [UInt8](repeating: 0x55, count: 64 << 10))
            }
            return sockets.map { $0.readUntilClose(timeout: .seconds(20)) }
        }
        #expect(try await healthy.unary(Retain_V1_Echo.echo, .init(text: "during")).text == "during")
        for (bytes, closed) in try await liars.value {
            #expect(closed)
            let goAway = try #require(try PlainSocket.frames(in: bytes).last)
            #expect(goAway.type == .goAway)
            let body = try goAway.payload.decodeProtoMessage(Retain_V1_GoAway.self)
            #expect(body.code == RPCStatusCode.resourceExhausted.rawValue)
            #expect(body.message.contains("4294967295"), "the message names the claimed size: \(body.message)")
        }
        #expect(try await healthy.unary(Retain_V1_Echo.echo, .init(text: "after")).text == "after")
        await healthy.close()
        #expect(server.stop() == 0)
    }

    @Test("a client that never reads its answers is held back by TCP; the server's memory stays bounded and others are served")
    func neverReads() async throws {
        let server = try ServerProcess("retain-echo")
        let healthy = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await healthy.unary(Retain_V1_Echo.echo, .init(text: "before")).text == "before")
        let baseline = try #require(server.residentBytes)
        let port = server.port
        // Echo requests of 64 KiB each (answers as big), written as fast as the socket takes
        // them and never read. Without back pressure the server would read all 256 MiB and
        // buffer as much in answers.
        let attempt = 256 << 20
        let socket = try PlainSocket(port: port)
        let writer = Task.detached { () throws -> Int in
            var written = 0
            var requestID: UInt32 = 0
            var idleRounds = 0
            var pending: ArraySlice<UInt8> = []
            // Blocked: nothing taken for 3 s in a row.
            while written < attempt, idleRounds < 30 {
                if pending.isEmpty {
                    requestID += 1
                    pending = ArraySlice(Self.echoRequest(id: requestID, payloadBytes: 64 << 10))
                }
                let taken = try socket.sendWithoutBlocking(pending)
                if taken == 0 {
                    idleRounds += 1
                    try await Task.sleep(for: .milliseconds(100))
                } else {
                    idleRounds = 0
                    written += taken
                    pending = pending.dropFirst(taken)
                }
            }
            return written
        }
        let written = try await writer.value
        #expect(written < 64 << 20, "the client's writes must block long before 256 MiB (wrote \(written) bytes)")
        // The stuck connection is still open: a healthy one is served meanwhile, and the server
        // holds no more than a bounded amount for the stuck one.
        #expect(try await healthy.unary(Retain_V1_Echo.echo, .init(text: "during")).text == "during")
        var peak = baseline
        for _ in 0..<5 {
            peak = max(peak, server.residentBytes ?? 0)
            try await Task.sleep(for: .milliseconds(100))
        }
        print("never-reading client: \(written) bytes taken before blocking; server RSS \(baseline) -> peak \(peak) bytes")
        #expect(peak - baseline < 48 << 20, "server RSS grew from \(baseline) to \(peak) bytes")
        socket.reset()
        #expect(try await healthy.unary(Retain_V1_Echo.echo, .init(text: "after")).text == "after")
        await healthy.close()
        #expect(server.stop() == 0)
    }

    /// A whole REQUEST frame calling `retain.v1.Echo/Echo` with `payloadBytes` of payload.
    private static func echoRequest(id: UInt32, payloadBytes: Int) -> [UInt8] {
        var frame = ByteBuffer()
        RequestPayload.writeFrame(
            requestID: id, header: Retain_V1_CallHeader(method: "retain.v1.Echo/Echo"),
            message: Retain_V1_EchoRequest(payload: (0..<payloadBytes).map { UInt8(truncatingIfNeeded: $0 &* 31) }), into: &frame)
        return Array(frame.readableBytesView)
    }
}
