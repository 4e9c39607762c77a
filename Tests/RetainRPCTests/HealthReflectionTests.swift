import Foundation
import RetainProto
import RetainRPC
import RetainProcess
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
