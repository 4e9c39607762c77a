import ArgumentParser
import GRPCCore
import GRPCNIOTransportHTTP2
#if canImport(Glibc)
import Glibc
#endif

/// `grpc-echo load`: `concurrency` tasks calling unary Echo back to back on one `GRPCClient`
/// (one HTTP/2 connection, plaintext) for `duration` seconds, after one warm-up call.
/// Measured the way `retain-bench echo` measures `RPCClient`: every call started before the end
/// counts, calls per second is calls over the nominal duration, latencies are per call.
struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Unary Echo load over one gRPC connection.")

    @Option(help: "Server address.") var host: String = "127.0.0.1"
    @Option(help: "Server port.") var port: Int
    @Option(help: "Concurrent calls.") var concurrency: Int = 1
    @Option(help: "Seconds to run.") var duration: Int = 5
    @Option(help: "Payload bytes per message (EchoRequest.payload).") var payload: Int = 16
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func validate() throws {
        guard concurrency > 0, duration > 0, payload >= 0 else {
            throw ValidationError("--concurrency and --duration must be positive, --payload not negative")
        }
    }

    func run() async throws {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: host, port: port), transportSecurity: .plaintext)
        let client = GRPCClient(transport: transport)
        let message = echoRequestBytes(payload: payload)
        let concurrency = concurrency, duration = duration

        let (latencies, failures) = try await withThrowingTaskGroup(of: ([UInt64], Int).self) { outer in
            outer.addTask {
                try await client.runConnections()
                return ([], 0)
            }
            // One warm-up call: the connection is up and the server has answered once.
            try await Self.call(client, message)
            let until = ContinuousClock.now + .seconds(duration)
            let result = try await withThrowingTaskGroup(of: ([UInt64], Int).self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        var local: [UInt64] = []
                        local.reserveCapacity(1 << 18)
                        var failed = 0
                        let clock = ContinuousClock()
                        while clock.now < until {
                            let start = clock.now
                            do {
                                try await Self.call(client, message)
                                local.append(Self.nanoseconds(clock.now - start))
                            } catch {
                                failed += 1
                            }
                        }
                        return (local, failed)
                    }
                }
                var all: [UInt64] = []
                var failed = 0
                for try await (part, partFailed) in group {
                    all += part
                    failed += partFailed
                }
                return (all, failed)
            }
            client.beginGracefulShutdown()
            return result
        }

        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000
        }
        let callsPerSecond = Double(sorted.count) / Double(duration)
        let p50 = percentile(0.50), p99 = percentile(0.99)
        if json {
            print(
                """
                {"concurrency":\(concurrency),"seconds":\(duration),"payload":\(payload),"calls":\(sorted.count),\
                "errors":\(failures),"callsPerSecond":\(callsPerSecond),"p50Micros":\(p50),"p99Micros":\(p99)}
                """)
        } else {
            print("grpc-echo load: \(concurrency) concurrent calls, one connection, \(duration) s, \(payload)-byte payload")
            print("  calls \(sorted.count), errors \(failures)")
            print("  \(Int(callsPerSecond.rounded())) calls/s, p50 \(Self.oneDecimal(p50)) us, p99 \(Self.oneDecimal(p99)) us")
        }
        fflush(nil)
        if failures > 0 && sorted.isEmpty { throw ExitCode.failure }
    }

    /// One unary Echo; throws unless the server answered OK with the request's bytes.
    static func call(_ client: GRPCClient<HTTP2ClientTransport.Posix>, _ message: [UInt8]) async throws {
        let answer = try await client.unary(
            request: ClientRequest(message: message), descriptor: RawEchoService.echo,
            serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer(), options: .defaults
        ) { response in
            try response.message
        }
        guard answer == message else {
            throw RPCError(code: .dataLoss, message: "echo answered other bytes (\(answer.count) for \(message.count))")
        }
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    static func oneDecimal(_ value: Double) -> String {
        String((value * 10).rounded() / 10)
    }
}
