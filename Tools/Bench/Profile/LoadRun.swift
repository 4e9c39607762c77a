import NIOCore
import NIOPosix
import RetainProto
import RetainRPC
import RetainWire

/// What the answers of one connection of a profile load run came to: failed calls (a STATUS
/// other than OK) are counted, not thrown.
struct LoadTally: Sendable {
    /// Calls that ended with a STATUS other than OK.
    var failed = 0
    /// The first failure's code and message.
    var firstFailure: String?
    /// The sum of what the run's `inspect` returned for OK answers.
    var counted = 0
}

/// What a load run of the profile benchmark did.
struct LoadRun {
    var calls: Int
    var failed: Int
    var firstFailure: String?
    var counted: Int
    var latencies: [UInt64]
    var seconds: Double

    /// Runs `total` calls over `connections` connections with `inFlight` calls each, all on one
    /// event loop thread of its own (like redis-benchmark's single thread), with the pipelined
    /// client.
    static func run(
        port: Int, connections: Int, inFlight: Int, total: Int, recordLatency: Bool = false,
        inspect: (@Sendable (_ payload: ByteBuffer) -> Int)? = nil,
        makeRequest: @escaping NumberedCalls<LoadTally>.MakeRequest
    ) async throws -> LoadRun {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.connections = connections
        configuration.callsInFlight = inFlight
        configuration.recordLatencies = recordLatency
        configuration.eventLoopGroup = group
        do {
            let report = try await PipelinedClient.run(configuration) { connection in
                NumberedCalls(
                    connection: connection, connections: connections, total: total, state: LoadTally(),
                    makeRequest: makeRequest
                ) { _, frame, tally in
                    if frame.type == .status {
                        let status = try? frame.payload.decodeProtoMessage(Retain_V1_CallStatus.self)
                        if status?.code != 0 {
                            tally.failed += 1
                            if tally.firstFailure == nil {
                                tally.firstFailure = "\(status?.code ?? 999): \(status?.message ?? "undecodable status")"
                            }
                        }
                    } else if let inspect {
                        tally.counted += inspect(frame.payload)
                    }
                }
            }
            try await group.shutdownGracefully()
            return LoadRun(
                calls: report.calls, failed: report.connections.reduce(0) { $0 + $1.state.failed },
                firstFailure: report.connections.lazy.compactMap(\.state.firstFailure).first,
                counted: report.connections.reduce(0) { $0 + $1.state.counted }, latencies: report.latencies,
                seconds: report.seconds)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
