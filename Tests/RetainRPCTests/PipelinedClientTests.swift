import NIOCore
import RetainProcess
import RetainProto
import RetainRPC
import Testing

/// The benchmarks' load generator against a real `retain-echo` process.
@Suite("PipelinedClient", .serialized)
struct PipelinedClientTests {
    @Test("a run makes exactly the calls asked for on every connection, with a latency for each")
    func countedCalls() async throws {
        let server = try ServerProcess("retain-echo")
        defer { server.stop() }
        var configuration = PipelinedClient.Configuration(port: server.port)
        configuration.connections = 3
        configuration.callsInFlight = 8
        configuration.recordLatencies = true
        let frame = PipelinedClient.requestFrame(Retain_V1_Echo.echo, Retain_V1_EchoRequest(text: "hello"))
        let report = try await PipelinedClient.run(configuration) { _ in RepeatedRequest(frame: frame, count: 100) }
        #expect(report.calls == 300)
        #expect(report.latencies.count == 300)
        #expect(report.connections.count == 3)
    }

    @Test("numbered calls share the numbers out over the connections and see each call's own answer")
    func numberedCalls() async throws {
        let server = try ServerProcess("retain-echo")
        defer { server.stop() }
        var configuration = PipelinedClient.Configuration(port: server.port)
        configuration.connections = 2
        configuration.callsInFlight = 4
        let report = try await PipelinedClient.run(configuration) { connection in
            NumberedCalls(
                connection: connection, connections: 2, total: 50, state: [Int](),
                makeRequest: { index in
                    PipelinedClient.requestFrame(Retain_V1_Echo.echo, Retain_V1_EchoRequest(text: "\(index)"))
                }
            ) { index, frame, seen in
                try frame.requireOK()
                let answer = try frame.payload.decodeProtoMessage(Retain_V1_EchoResponse.self)
                #expect(answer.text == "\(index)")
                seen.append(index)
            }
        }
        #expect(report.connections.flatMap(\.state).sorted() == Array(0..<50))
    }

    @Test("a call that ends with an error status stops the run with it")
    func failedCall() async throws {
        let server = try ServerProcess("retain-echo")
        defer { server.stop() }
        let frame = PipelinedClient.requestFrame(Retain_V1_Echo.fail, Retain_V1_FailRequest(code: 5, message: "gone"))
        await #expect(throws: PipelinedClientError.self) {
            _ = try await PipelinedClient.run(.init(port: server.port)) { _ in RepeatedRequest(frame: frame, count: 3) }
        }
    }
}
