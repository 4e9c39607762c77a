import NIOCore
import NIOPosix
import RetainProto
import RetainRPC

/// A lean load generator for the benchmark: raw SwiftNIO connections on one event loop (like
/// redis-benchmark's single thread), each keeping a fixed number of calls in flight and sending
/// the next as each answer arrives, with request frames built by the caller.
final class LoadRun {
    /// Builds the REQUEST frame of call `index` (its request id is overwritten per connection).
    typealias MakeRequest = (_ index: Int) -> ByteBuffer

    let total: Int
    let makeRequest: MakeRequest
    /// Called with each OK answer's message bytes, when set.
    let inspect: ((ByteBuffer) -> Void)?
    let recordLatency: Bool
    private(set) var issued = 0
    private(set) var answered = 0
    private(set) var failed = 0
    private(set) var firstFailure: String?
    private(set) var latencies: [UInt64] = []
    let done: EventLoopPromise<Void>

    init(total: Int, loop: any EventLoop, recordLatency: Bool, inspect: ((ByteBuffer) -> Void)? = nil,
         makeRequest: @escaping MakeRequest) {
        self.total = total
        self.makeRequest = makeRequest
        self.inspect = inspect
        self.recordLatency = recordLatency
        self.done = loop.makePromise()
        if recordLatency { latencies.reserveCapacity(total) }
    }

    /// The next call's index, or nil when all are issued.
    func nextIndex() -> Int? {
        guard issued < total else { return nil }
        defer { issued += 1 }
        return issued
    }

    func answer(_ frame: Frame, latency: UInt64) {
        answered += 1
        if recordLatency { latencies.append(latency) }
        if frame.type == .status {
            let status = try? frame.payload.decodeProtoMessage(Retain_V1_CallStatus.self)
            if status?.code != 0 {
                failed += 1
                if firstFailure == nil { firstFailure = "\(status?.code ?? 999): \(status?.message ?? "undecodable status")" }
            }
        } else if let inspect {
            inspect(frame.payload)
        }
        if answered == total { done.succeed() }
    }

    func fail(_ error: any Error) {
        if firstFailure == nil { firstFailure = "\(error)" }
        done.fail(error)
    }

    /// Runs `total` calls over `connections` connections with `inFlight` calls each, all on one
    /// event loop; returns the run (counts, latencies) and its wall time in seconds.
    static func run(
        port: Int, connections: Int, inFlight: Int, total: Int, recordLatency: Bool = false,
        inspect: ((ByteBuffer) -> Void)? = nil, makeRequest: @escaping MakeRequest
    ) async throws -> (run: LoadRun, seconds: Double) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let result = try await run(on: group.next(), port: port, connections: connections, inFlight: inFlight, total: total,
                                       recordLatency: recordLatency, inspect: inspect, makeRequest: makeRequest)
            try await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private static func run(
        on loop: any EventLoop, port: Int, connections: Int, inFlight: Int, total: Int, recordLatency: Bool,
        inspect: ((ByteBuffer) -> Void)?, makeRequest: @escaping MakeRequest
    ) async throws -> (run: LoadRun, seconds: Double) {
        let runBox = LoadRun(total: total, loop: loop, recordLatency: recordLatency, inspect: inspect, makeRequest: makeRequest)
        let started = ContinuousClock.now
        var channels: [any Channel] = []
        for _ in 0..<connections {
            let channel = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(FrameDecoder(maximumPayloadSize: 64 << 20)),
                            LoadConnection(run: runBox, inFlight: inFlight),
                        ])
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            channels.append(channel)
        }
        try await runBox.done.futureResult.get()
        let seconds = (ContinuousClock.now - started).seconds
        for channel in channels { try? await channel.close().get() }
        return (runBox, seconds)
    }
}

extension LoadRun: @unchecked Sendable {}

/// One connection of a ``LoadRun``.
final class LoadConnection: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    private let run: LoadRun
    private let inFlight: Int
    /// Request ids not in use (an id is free again once its call ended), so that with one call
    /// in flight every request reuses id 1 and the prepared frame is sent as is.
    private var freeIDs: [UInt32]
    private var sentAt: [UInt64]

    init(run: LoadRun, inFlight: Int) {
        self.run = run
        self.inFlight = inFlight
        freeIDs = (1...UInt32(inFlight)).reversed()
        sentAt = [UInt64](repeating: 0, count: inFlight + 1)
    }

    func channelActive(context: ChannelHandlerContext) {
        for _ in 0..<inFlight { send(context) }
        context.flush()
    }

    private func send(_ context: ChannelHandlerContext) {
        guard let index = run.nextIndex() else { return }
        var frame = run.makeRequest(index)
        let id = freeIDs.removeLast()
        if frame.getInteger(at: frame.readerIndex + 8, as: UInt32.self) != id {
            frame.setInteger(id, at: frame.readerIndex + 8)
        }
        sentAt[Int(id)] = NIODeadline.now().uptimeNanoseconds
        context.write(wrapOutboundOut(frame), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.type == .message || frame.type == .status else { return }
        let id = frame.requestID
        guard id >= 1, Int(id) <= inFlight else { return }
        freeIDs.append(id)
        run.answer(frame, latency: NIODeadline.now().uptimeNanoseconds &- sentAt[Int(id)])
        send(context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        run.fail(error)
        context.close(promise: nil)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// A REQUEST frame for `message` on `method`.
func requestFrame<I: ProtoMessage, O>(_ method: RPCMethod<I, O>, _ message: I) -> ByteBuffer {
    var buffer = ByteBuffer()
    RequestPayload.writeFrame(requestID: 1, header: Retain_V1_CallHeader(method: method.path), message: message, into: &buffer)
    return buffer
}
