import NIOCore
import NIOPosix
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// The server's deadlines of the calls on one connection share one timer, armed at the earliest
/// deadline: each call still ends at its own deadline, in deadline order whatever order the
/// calls came in, and calls answered in time are not touched. Frames are sent by hand, so no
/// client-side timer can end a call.
@Suite("RPC server: deadlines of the calls on one connection")
struct ServerDeadlineTests {
    /// A REQUEST frame for `method` with `message` and a deadline of `timeoutMs`.
    static func request(_ id: UInt32, method: String, message: some ProtoMessage, timeoutMs: UInt64) -> ByteBuffer {
        var frame = ByteBuffer()
        RequestPayload.writeFrame(
            requestID: id, header: Retain_V1_CallHeader(method: method, timeoutUs: timeoutMs * 1000), message: message, into: &frame)
        return frame
    }

    @Test(
        "calls sent with deadlines in any order end by DEADLINE_EXCEEDED in deadline order, each at its own; an answered one is untouched")
    func deadlinesInOrder() async throws {
        let server = try ServerProcess("retain-echo")
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumPayloadSize: 1 << 20)))
                    return try NIOAsyncChannel<Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let sleep = "retain.v1.Echo/Sleep"
        var requests = ByteBuffer()
        // Deadlines 1,500 ms, 300 ms and 800 ms for 10 s of work; a 20 ms sleep within 1 s.
        requests.writeImmutableBuffer(Self.request(1, method: sleep, message: Retain_V1_SleepRequest(durationMs: 10_000), timeoutMs: 1_500))
        requests.writeImmutableBuffer(Self.request(3, method: sleep, message: Retain_V1_SleepRequest(durationMs: 10_000), timeoutMs: 300))
        requests.writeImmutableBuffer(Self.request(5, method: sleep, message: Retain_V1_SleepRequest(durationMs: 10_000), timeoutMs: 800))
        requests.writeImmutableBuffer(Self.request(7, method: sleep, message: Retain_V1_SleepRequest(durationMs: 20), timeoutMs: 1_000))
        let start = ContinuousClock.now
        var ends: [(id: UInt32, code: UInt32, after: Duration)] = []
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(requests)
            for try await frame in inbound {
                if frame.type == .status {
                    let status = try frame.payload.decodeProtoMessage(Retain_V1_CallStatus.self)
                    ends.append((frame.requestID, status.code, ContinuousClock.now - start))
                } else if frame.type == .message, frame.flags.contains(.end) {
                    ends.append((frame.requestID, 0, ContinuousClock.now - start))
                }
                if ends.count == 4 { break }
            }
        }
        server.stop()
        #expect(ends.map(\.id) == [7, 3, 5, 1], "\(ends)")
        let byID = Dictionary(uniqueKeysWithValues: ends.map { ($0.id, $0) })
        #expect(byID[7]?.code == 0)
        for (id, deadline) in [(3 as UInt32, 300), (5, 800), (1, 1_500)] {
            #expect(byID[id]?.code == RPCStatusCode.deadlineExceeded.rawValue)
            #expect((byID[id]?.after ?? .zero) >= .milliseconds(deadline), "call \(id) ended at its deadline, not before")
        }
        #expect((byID[1]?.after ?? .seconds(99)) < .seconds(8), "well before the 10 s of work")
    }
}
