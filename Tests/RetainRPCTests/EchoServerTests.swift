import Foundation
import NIOCore
import NIOPosix
import RetainProto
import RetainRPC
import RetainProcess
import RetainWire
import Testing

/// Integration tests against a real `retain-echo` process over TCP.
@Suite("RPC runtime over TCP", .serialized)
struct EchoServerTests {
    @Test("concurrent calls share one connection and answers come back out of order")
    func outOfOrder() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let order = OrderRecorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, delay) in [400, 300, 200, 100, 0].enumerated() {
                group.addTask {
                    let answer = try await client.unary(Retain_V1_Echo.sleep, .init(durationMs: UInt32(delay), text: "\(index)"))
                    await order.record(answer.text)
                }
            }
            try await group.waitForAll()
        }
        #expect(await order.values == ["4", "3", "2", "1", "0"])
        await client.close()
        #expect(server.stop() == 0)
    }

    @Test("echo answers with what it was sent, including large compressed-size payloads")
    func echo() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let big = (0..<100_000).map { UInt8($0 % 251) }
        let answer = try await client.unary(Retain_V1_Echo.echo, .init(text: "héllo", payload: big))
        #expect(answer.text == "héllo")
        #expect(answer.payload == big)
        await client.close()
        server.stop()
    }

    @Test("a deadline that passes ends the call with DEADLINE_EXCEEDED")
    func deadline() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let started = ContinuousClock.now
        await #expect(throws: RPCError(.deadlineExceeded, "deadline exceeded")) {
            _ = try await client.unary(Retain_V1_Echo.sleep, .init(durationMs: 5_000), options: .init(timeout: .milliseconds(200)))
        }
        // Well before the 5 s of work: the deadline, not the sleep, ended the call.
        #expect(ContinuousClock.now - started < .milliseconds(4_500))
        // The connection stays usable.
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "after")).text == "after")
        await client.close()
        server.stop()
    }

    @Test("the server enforces the deadline it was sent")
    func serverDeadline() async throws {
        let server = try ServerProcess("retain-echo")
        // Send a REQUEST by hand with a 100 ms deadline and no client-side timer.
        let answer = try await RawConnection.roundTrip(
            port: server.port, method: "retain.v1.Echo/Sleep",
            message: Retain_V1_SleepRequest(durationMs: 3_000), timeoutMicros: 100_000)
        #expect(answer.type == .status)
        #expect(try answer.payload.decodeProtoMessage(Retain_V1_CallStatus.self).code == RPCStatusCode.deadlineExceeded.rawValue)
        server.stop()
    }

    @Test("a cancelled call ends at once with CANCELLED and the server stops its work")
    func cancellation() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let task = Task { try await client.unary(Retain_V1_Echo.sleep, .init(durationMs: 10_000)) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        await #expect(throws: RPCError(.cancelled, "cancelled by the caller")) { _ = try await task.value }
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "still here")).text == "still here")
        await client.close()
        server.stop()
    }

    @Test("an unknown method gets UNIMPLEMENTED and the connection stays open")
    func unknownMethod() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let missing = RPCMethod<Retain_V1_EchoRequest, Retain_V1_EchoResponse>(path: "retain.v1.Echo/Nope", kind: .unary)
        await #expect(throws: RPCError(.unimplemented, "unknown method 'retain.v1.Echo/Nope'")) {
            _ = try await client.unary(missing, .init())
        }
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "ok")).text == "ok")
        await client.close()
        server.stop()
    }

    @Test("an unknown method with a huge name gets UNIMPLEMENTED in a short answer")
    func hugeUnknownMethod() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        // 3 MiB of name: echoed whole (and compressed or not) the STATUS would near the 4 MiB limit.
        let path = "retain.v1.Echo/" + String(repeating: "N", count: 3 << 20)
        let missing = RPCMethod<Retain_V1_EchoRequest, Retain_V1_EchoResponse>(path: path, kind: .unary)
        do {
            _ = try await client.unary(missing, .init())
            Issue.record("an unknown method was answered")
        } catch let error as RPCError {
            #expect(error.code == .unimplemented)
            #expect(error.message.hasPrefix("unknown method 'retain.v1.Echo/NNN"))
            #expect(error.message.utf8.count < 256)
        }
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "ok")).text == "ok")
        await client.close()
        server.stop()
    }

    @Test("handler errors arrive with their status code and message")
    func statusCodes() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        await #expect(throws: RPCError(.failedPrecondition, "nope")) {
            _ = try await client.unary(Retain_V1_Echo.fail, .init(code: 9, message: "nope"))
        }
        await client.close()
        server.stop()
    }

    @Test("an oversized frame gets GOAWAY with RESOURCE_EXHAUSTED and a closed connection; others are still served")
    func oversized() async throws {
        let server = try ServerProcess("retain-echo", arguments: ["--max-frame-bytes", "1024"])
        let frames = try await RawConnection.sendAndReadUntilClose(port: server.port) { buffer in
            buffer.writeFrameHeader(type: .request, flags: [], requestID: 1, payloadLength: 2048)
            buffer.writeRepeatingByte(0, count: 2048)
        }
        let goAway = try #require(frames.last)
        #expect(goAway.type == .goAway)
        let body = try goAway.payload.decodeProtoMessage(Retain_V1_GoAway.self)
        #expect(body.code == RPCStatusCode.resourceExhausted.rawValue)
        #expect(body.message.contains("exceeds the maximum"))
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "fine")).text == "fine")
        await client.close()
        server.stop()
    }

    @Test("garbage on the wire closes that connection with GOAWAY, the server survives")
    func garbage() async throws {
        let server = try ServerProcess("retain-echo")
        let frames = try await RawConnection.sendAndReadUntilClose(port: server.port) { buffer in
            buffer.writeString("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        }
        #expect(frames.last?.type == .goAway)
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "alive")).text == "alive")
        await client.close()
        server.stop()
    }

    @Test("server streaming delivers every answer in order and ends with OK")
    func streaming() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        var indices: [UInt32] = []
        for try await answer in client.serverStreaming(Retain_V1_Echo.expand, .init(text: "x", count: 25, intervalMs: 1)) {
            indices.append(answer.index)
        }
        #expect(indices == Array(0..<25))
        await client.close()
        server.stop()
    }

    @Test("draining lets running calls finish, refuses nothing in flight, and the process exits cleanly")
    func drain() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        _ = try await client.unary(Retain_V1_Echo.echo, .init())
        let running = (0..<8).map { index in
            Task { try await client.unary(Retain_V1_Echo.sleep, .init(durationMs: 500, text: "\(index)")) }
        }
        try await Task.sleep(for: .milliseconds(150))
        kill(server.process.processIdentifier, SIGTERM)
        for (index, call) in running.enumerated() {
            #expect(try await call.value.text == "\(index)")
        }
        #expect(server.stop() == 0)
        await client.close()
    }

    @Test("the client reconnects after the server restarts")
    func reconnect() async throws {
        let first = try ServerProcess("retain-echo")
        let port = first.port
        let client = RPCClient(host: "127.0.0.1", port: port)
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "one")).text == "one")
        first.kill()
        await #expect(throws: RPCError.self) { _ = try await client.unary(Retain_V1_Echo.echo, .init(text: "down")) }
        let second = try ServerProcess("retain-echo", port: port)
        var answer: String?
        for _ in 0..<50 where answer == nil {
            answer = try? await client.unary(Retain_V1_Echo.echo, .init(text: "two")).text
            if answer == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(answer == "two")
        await client.close()
        second.stop()
    }
}

/// Records completion order across tasks.
actor OrderRecorder {
    private(set) var values: [String] = []
    func record(_ value: String) { values.append(value) }
}

@Suite("zstd compression on the wire", .serialized)
struct CompressionTests {
    @Test("large answers are compressed only for callers that accept it, and decode to the same bytes")
    func answers() async throws {
        let server = try ServerProcess("retain-echo")
        let payload = Array(String(repeating: "retention ", count: 20_000).utf8)
        let accepting = try await RawConnection.roundTrip(
            port: server.port, method: "retain.v1.Echo/Echo", message: Retain_V1_EchoRequest(payload: payload),
            timeoutMicros: 0, acceptCompression: true)
        #expect(accepting.flags.contains(.compressed))
        #expect(accepting.payload.readableBytes < payload.count / 10)
        let plain = try await RawConnection.roundTrip(
            port: server.port, method: "retain.v1.Echo/Echo", message: Retain_V1_EchoRequest(payload: payload),
            timeoutMicros: 0, acceptCompression: false)
        #expect(!plain.flags.contains(.compressed))
        #expect(try plain.payload.decodeProtoMessage(Retain_V1_EchoResponse.self).payload == payload)
        // RPCClient compresses its large request and accepts the compressed answer.
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(payload: payload)).payload == payload)
        await client.close()
        server.stop()
    }

    @Test("a compressed request that claims more than the maximum size is refused")
    func bomb() async throws {
        let server = try ServerProcess("retain-echo", arguments: ["--max-frame-bytes", "65536"])
        // 1 MiB of zeros compresses to a few dozen bytes: a small frame that would inflate past the limit.
        var message = ByteBuffer()
        message.writeProtoMessage(Retain_V1_EchoRequest(payload: [UInt8](repeating: 0, count: 1 << 20)))
        let compressed = MessageCompression.compress(message, allocator: ByteBufferAllocator())
        let answer = try await RawConnection.roundTripRaw(
            port: server.port, method: "retain.v1.Echo/Echo",
            messageBytes: compressed, flags: .compressed)
        #expect(answer.type == .status)
        #expect(try answer.payload.decodeProtoMessage(Retain_V1_CallStatus.self).code == RPCStatusCode.resourceExhausted.rawValue)
        server.stop()
    }
}
