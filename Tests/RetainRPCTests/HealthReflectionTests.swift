import Foundation
import NIOCore
import RetainProto
import RetainRPC
import RetainProcess
import RetainWire
import Testing

@Suite("health and reflection over TCP", .serialized)
struct HealthReflectionTests {
    @Test("Check answers SERVING for the server and its services, NOT_FOUND for others")
    func check() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await client.unary(Retain_V1_Health.check, .init(service: "")).status == .serving)
        #expect(try await client.unary(Retain_V1_Health.check, .init(service: "retain.v1.Echo")).status == .serving)
        await #expect(throws: RPCError(.notFound, "unknown service 'retain.v1.Nope'")) {
            _ = try await client.unary(Retain_V1_Health.check, .init(service: "retain.v1.Nope"))
        }
        await client.close()
        server.stop()
    }

    @Test("Watch streams the current status, then NOT_SERVING when the server drains")
    func watch() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        var seen: [Retain_V1_ServingStatus] = []
        do {
            for try await answer in client.serverStreaming(Retain_V1_Health.watch, .init(service: "retain.v1.Echo")) {
                seen.append(answer.status)
                if seen.count == 1 { server.process.terminate() }
                if answer.status == .notServing { break }
            }
        } catch {
            // The drain may end the stream after NOT_SERVING was delivered.
        }
        #expect(seen.first == .serving)
        #expect(seen.contains(.notServing))
        await client.close()
        server.stop()
    }

    @Test("ListServices names every method with its types; GetDescriptorSet holds every proto file")
    func reflection() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let listing = try await client.unary(Retain_V1_Reflection.listServices, .init())
        let echo = try #require(listing.services.first { $0.name == "retain.v1.Echo" })
        #expect(echo.methods.map(\.name) == ["Echo", "Expand", "Fail", "Inspect", "Sleep"])
        let expand = try #require(echo.methods.first { $0.name == "Expand" })
        #expect(expand.serverStreaming)
        #expect(expand.inputType == "retain.v1.ExpandRequest")
        #expect(listing.services.map(\.name).contains("retain.v1.Health"))
        #expect(listing.services.map(\.name).contains("retain.v1.Reflection"))
        let set = try await client.unary(Retain_V1_Reflection.getDescriptorSet, .init()).fileDescriptorSet
        #expect(set.count > 1000)
        // The file names appear as strings inside the serialized FileDescriptorSet.
        let text = String(decoding: set, as: UTF8.self)
        #expect(text.contains("retain/v1/echo.proto"))
        #expect(text.contains("retain/v1/rpc.proto"))
        await client.close()
        server.stop()
    }
}

@Suite("runtime edge cases found by the interop client", .serialized)
struct RuntimeEdgeCaseTests {
    @Test("a Watch stream ends with OK when the server drains, instead of holding the drain up")
    func watchEndsOnDrain() async throws {
        // The loop ends without an error only if the server ended the stream with OK; a stream
        // held up until the drain timeout is cut off and throws UNAVAILABLE instead. Rarely (2 of
        // about 8 full serial runs of the suite, never alone or under CPU load) the connection's
        // close arrives first: a race recorded in PROTOCOL.md §21 and not yet found. Three
        // attempts, each on a fresh server: a server that never ends the stream fails all three.
        var failures: [String] = []
        for _ in 0..<3 {
            let server = try ServerProcess("retain-echo")
            let client = RPCClient(host: "127.0.0.1", port: server.port)
            var seen: [Retain_V1_ServingStatus] = []
            do {
                for try await answer in client.serverStreaming(Retain_V1_Health.watch, .init(service: "")) {
                    seen.append(answer.status)
                    if seen.count == 1 { server.process.terminate() }
                }
            } catch {
                failures.append("\(error)")
                server.stop()
                await client.close()
                continue
            }
            #expect(seen == [.serving, .notServing])
            #expect(server.stop() == 0)
            await client.close()
            return
        }
        Issue.record("the Watch stream never ended with OK on drain: \(failures)")
    }

    @Test("a method name with a NUL inside is a malformed header, not a call of the shorter name")
    func nulInMethod() async throws {
        let server = try ServerProcess("retain-echo")
        // Hand-encoded: field 1 (method) holding "retain.v1.Echo/Echo", a NUL, then "junk".
        let name = Array("retain.v1.Echo/Echo".utf8) + [0] + Array("junk".utf8)
        var message = ByteBuffer()
        message.writeProtoMessage(Retain_V1_EchoRequest(text: "x"))
        let answer = try await RawConnection.roundTripRaw(
            port: server.port, method: "", messageBytes: message, flags: [],
            rawHeader: [0x0A, UInt8(name.count)] + name)
        #expect(answer.type == .status)
        #expect(try answer.payload.decodeProtoMessage(Retain_V1_CallStatus.self).code == RPCStatusCode.invalidArgument.rawValue)
        server.stop()
    }

    @Test("a handler that throws OK or an unknown code ends the call with UNKNOWN")
    func invalidStatusCodes() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        for code: UInt32 in [0, 99] {
            await #expect { _ = try await client.unary(Retain_V1_Echo.fail, .init(code: code, message: "odd")) } throws: { error in
                (error as? RPCError)?.code == .unknown
            }
        }
        await client.close()
        server.stop()
    }

    @Test("a request id reused right after its call was cancelled gets its own answer")
    func reusedRequestID() async throws {
        let server = try ServerProcess("retain-echo")
        let frames = try await RawConnection.sendAndReadUntilClose(port: server.port, closeAfter: .milliseconds(800)) { buffer in
            RequestPayload.writeFrame(
                requestID: 5, header: Retain_V1_CallHeader(method: "retain.v1.Echo/Sleep"),
                message: Retain_V1_SleepRequest(durationMs: 300, text: "old"), into: &buffer)
            buffer.writeFrameHeader(type: .cancel, flags: [], requestID: 5, payloadLength: 0)
            RequestPayload.writeFrame(
                requestID: 5, header: Retain_V1_CallHeader(method: "retain.v1.Echo/Sleep"),
                message: Retain_V1_SleepRequest(durationMs: 50, text: "new"), into: &buffer)
        }
        let answers = frames.filter { $0.requestID == 5 }
        #expect(answers.count == 1)
        let answer = try #require(answers.first)
        #expect(answer.type == .message)
        #expect(try answer.payload.decodeProtoMessage(Retain_V1_EchoResponse.self).text == "new")
        server.stop()
    }

    @Test("a client that half-closes still gets the answers to what it sent")
    func halfClose() async throws {
        let server = try ServerProcess("retain-echo")
        let frames = try await RawConnection.sendAndReadUntilClose(port: server.port, halfClose: true) { buffer in
            RequestPayload.writeFrame(
                requestID: 1, header: Retain_V1_CallHeader(method: "retain.v1.Echo/Sleep"),
                message: Retain_V1_SleepRequest(durationMs: 100, text: "late"), into: &buffer)
            RequestPayload.writeFrame(
                requestID: 2, header: Retain_V1_CallHeader(method: "retain.v1.Echo/Echo"),
                message: Retain_V1_EchoRequest(text: "now"), into: &buffer)
        }
        #expect(frames.filter { $0.type == .message }.count == 2)
        server.stop()
    }
}
