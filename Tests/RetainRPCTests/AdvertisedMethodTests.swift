import Logging
import NIOCore
import RetainProto
import RetainRPC
import Testing

/// A proxy's advertised methods are answered by its fallback like any other path, but the
/// server finds them in its method table (no path string, metrics lookup or handler per call).
/// Real server and client over TCP.
@Suite("RPC server: advertised methods reach the fallback")
struct AdvertisedMethodTests {
    @Test("an advertised path, an unknown path and a registered method each reach their handler with their own path")
    func advertisedAndUnknownPaths() async throws {
        var router = RPCRouter()
        router.unary(Retain_V1_Echo.echo) { request, _ in Retain_V1_EchoResponse(text: "registered " + request.text) }
        router.fallback { path, request, context, responder in
            var answer = ByteBuffer()
            answer.writeString("\(path)|\(context.method)|")
            answer.writeImmutableBuffer(request)
            responder.succeed(encoded: answer)
        }
        // Advertised: a method of another service; registered methods are never advertised twice.
        router.advertise([AnyRPCMethod(Retain_V1_Echo.sleep), AnyRPCMethod(Retain_V1_Echo.echo)])
        let server = RPCServer(router: router, logger: Logger(label: "advertised-test"))
        let port = try await server.start().port!
        let client = RPCClient(host: "127.0.0.1", port: port)

        func call(_ path: String, _ text: String) async throws -> String {
            var request = ByteBuffer()
            request.writeString(text)
            var answer = try await client.unaryRaw(path: path, request: request)
            return answer.readString(length: answer.readableBytes) ?? ""
        }
        for round in 0..<3 {
            #expect(
                try await call(Retain_V1_Echo.sleep.path, "a\(round)")
                    == "\(Retain_V1_Echo.sleep.path)|\(Retain_V1_Echo.sleep.path)|a\(round)")
            #expect(try await call("other.Service/Method", "b\(round)") == "other.Service/Method|other.Service/Method|b\(round)")
        }
        let echoed = try await client.unary(Retain_V1_Echo.echo, .init(text: "c"))
        #expect(echoed.text == "registered c")
        // Reflection lists the advertised method once, beside the registered one.
        let listed = router.methods.map(\.path) + router.advertised.map(\.path)
        #expect(listed.filter { $0 == Retain_V1_Echo.echo.path }.count == 1 && listed.contains(Retain_V1_Echo.sleep.path))
        await client.close()
        server.drain()
        try await server.waitForConnectionsToClose()
    }
}
