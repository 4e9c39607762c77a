package import NIOCore
import NIOPosix
package import RetainProto
import RetainWire

/// What one connection of a ``PipelinedClient`` run sends, and what it makes of the answers.
///
/// A value per connection, used on that connection's event loop only; the run hands every
/// connection's value back when it ends, so a benchmark reads its counts from them.
package protocol PipelinedCalls: Sendable {
    /// The REQUEST frame of the next call, with `requestID` in its header (bytes 8-11), or nil
    /// when this connection has no call to make now. It is asked again after each answer (an
    /// answer may lead to the next call), and the connection is done when it has no call in
    /// flight and nothing to send.
    ///
    /// Returning the same buffer again is the cheapest shape for a fixed request: a frame per
    /// request id, built once, is written without a copy.
    mutating func nextRequest(requestID: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer?

    /// The frame that ended a call: a MESSAGE with `END` (the call ended with OK), or a STATUS.
    /// Throwing stops the run with the error.
    mutating func ended(_ frame: Frame) throws
}

/// The load generator of every Retain benchmark: raw SwiftNIO connections that keep a fixed
/// number of unary calls in flight each, sending the next REQUEST frame as each answer
/// arrives, with no per-call task, continuation or message decoding. Frames are built by the
/// caller (``PipelinedCalls``), so the client spends its CPU on the wire and not on building
/// messages, and costs little beside the server it measures.
///
/// Calls are told apart by request id: each connection uses ids `1...callsInFlight`, an id being
/// free again once its call ended, so with one call in flight every request reuses id 1.
package enum PipelinedClient {
    /// How a run loads the server.
    package struct Configuration: Sendable {
        /// The server's host.
        package var host: String = "127.0.0.1"
        /// The server's port.
        package var port: Int
        /// Connections opened. Default 1.
        package var connections: Int = 1
        /// Calls kept in flight on each connection. Default 1.
        package var callsInFlight: Int = 1
        /// No call is started after this moment; nil: until every connection's calls are made.
        package var deadline: NIODeadline?
        /// Whether each call's latency (nanoseconds, from writing its request to reading its end)
        /// is kept. Default false.
        package var recordLatencies: Bool = false
        /// The largest answer payload accepted. Default 64 MiB.
        package var maximumPayloadSize: Int = 64 << 20
        /// The event loops the connections are spread over, one after the other. Default: the
        /// process-wide singleton group.
        package var eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

        /// A run against `port` on `host`.
        package init(host: String = "127.0.0.1", port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// What a run did.
    package struct Report<Calls: PipelinedCalls>: Sendable {
        /// Each connection's calls, in connection order, as they were when the run ended.
        package var connections: [Calls]
        /// Calls ended over all connections.
        package var calls: Int
        /// Latencies in nanoseconds, when recorded, in no particular order.
        package var latencies: [UInt64]
        /// Wall time of the run in seconds, from the first connect to the last answer.
        package var seconds: Double
    }

    /// A REQUEST frame calling `method` with `message`, as request id 1 (the client sets the id
    /// of each call).
    package static func requestFrame<Input, Output>(_ method: RPCMethod<Input, Output>, _ message: Input) -> ByteBuffer {
        var buffer = ByteBuffer()
        RequestPayload.writeFrame(
            requestID: 1, header: Retain_V1_CallHeader(method: method.path), message: message,
            into: &buffer)
        return buffer
    }

    /// Runs the load: connection `n` makes the calls of `makeCalls(n)` until they are done or the
    /// deadline passes, and the run ends when every connection has no call left in flight.
    package static func run<Calls: PipelinedCalls>(
        _ configuration: Configuration, makeCalls: (Int) -> Calls
    ) async throws -> Report<Calls> {
        let started = NIODeadline.now()
        var futures: [EventLoopFuture<PipelinedConnection<Calls>.Outcome>] = []
        for connection in 0..<configuration.connections {
            let loop = configuration.eventLoopGroup.next()
            let promise = loop.makePromise(of: PipelinedConnection<Calls>.Outcome.self)
            let calls = makeCalls(connection)
            let connected = ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(FrameDecoder(maximumPayloadSize: configuration.maximumPayloadSize)),
                            PipelinedConnection(calls: calls, configuration: configuration, done: promise),
                        ])
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
            connected.whenFailure { promise.fail($0) }
            futures.append(promise.futureResult)
        }
        var result = Report<Calls>(connections: [], calls: 0, latencies: [], seconds: 0)
        for future in futures {
            let outcome = try await future.get()
            result.connections.append(outcome.calls)
            result.calls += outcome.ended
            result.latencies += outcome.latencies
        }
        result.seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        return result
    }
}

/// One connection of a ``PipelinedClient`` run.
final class PipelinedConnection<Calls: PipelinedCalls>: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    /// What the connection did, handed back when it is done.
    struct Outcome: Sendable {
        var calls: Calls
        var ended: Int
        var latencies: [UInt64]
    }

    private var calls: Calls
    private let callsInFlight: Int
    private let deadline: NIODeadline?
    private let recordLatencies: Bool
    private let done: EventLoopPromise<Outcome>
    private var freeIDs: [UInt32]
    private var sentAt: [UInt64]
    private var latencies: [UInt64] = []
    private var outstanding = 0
    private var ended = 0
    private var pastDeadline = false
    private var finished = false

    init(calls: Calls, configuration: PipelinedClient.Configuration, done: EventLoopPromise<Outcome>) {
        self.calls = calls
        callsInFlight = max(1, configuration.callsInFlight)
        deadline = configuration.deadline
        recordLatencies = configuration.recordLatencies
        self.done = done
        freeIDs = (1...UInt32(callsInFlight)).reversed()
        sentAt = [UInt64](repeating: 0, count: callsInFlight + 1)
        if recordLatencies { latencies.reserveCapacity(1 << 16) }
    }

    func channelActive(context: ChannelHandlerContext) {
        while send(context) {}
        context.flush()
        if outstanding == 0 { finish(context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.type == .status || (frame.type == .message && frame.flags.contains(.end)) else { return }
        let id = frame.requestID
        guard id >= 1, Int(id) <= callsInFlight else { return }
        if recordLatencies { latencies.append(NIODeadline.now().uptimeNanoseconds &- sentAt[Int(id)]) }
        freeIDs.append(id)
        outstanding -= 1
        ended += 1
        do {
            try calls.ended(frame)
        } catch {
            fail(context, error)
            return
        }
        while send(context) {}
        if outstanding == 0 { finish(context) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        done.fail(PipelinedClientError(message: "connection closed with \(outstanding) calls in flight"))
    }

    /// Writes the next call's request if an id is free and there is one; returns whether it did.
    private func send(_ context: ChannelHandlerContext) -> Bool {
        guard !pastDeadline, let id = freeIDs.last else { return false }
        if let deadline, NIODeadline.now() >= deadline {
            pastDeadline = true
            return false
        }
        guard let frame = calls.nextRequest(requestID: id, allocator: context.channel.allocator) else { return false }
        freeIDs.removeLast()
        sentAt[Int(id)] = NIODeadline.now().uptimeNanoseconds
        outstanding += 1
        context.write(wrapOutboundOut(frame), promise: nil)
        return true
    }

    private func finish(_ context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        done.succeed(Outcome(calls: calls, ended: ended, latencies: latencies))
        context.close(promise: nil)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        guard !finished else { return }
        finished = true
        done.fail(error)
        context.close(promise: nil)
    }
}

/// A ``PipelinedClient`` run could not go on.
package struct PipelinedClientError: Error, CustomStringConvertible {
    /// What went wrong.
    package var message: String

    package var description: String { message }
}

/// The same REQUEST frame for every call: one frame per request id, built once.
package struct RepeatedRequest: PipelinedCalls {
    private var frames: [ByteBuffer?]
    private let template: ByteBuffer
    private var remaining: Int?

    /// Calls sending `frame` (a REQUEST frame, any request id), `count` of them or, when nil,
    /// until the run's deadline. Every call is expected to end with OK.
    package init(frame: ByteBuffer, count: Int? = nil) {
        template = frame
        frames = []
        remaining = count
    }

    package mutating func nextRequest(requestID: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer? {
        if let left = remaining {
            guard left > 0 else { return nil }
            remaining = left - 1
        }
        let index = Int(requestID)
        if index >= frames.count { frames += [ByteBuffer?](repeating: nil, count: index + 1 - frames.count) }
        if let frame = frames[index] { return frame }
        var frame = template
        frame.setInteger(requestID, at: frame.readerIndex + 8)
        frames[index] = frame
        return frame
    }

    package mutating func ended(_ frame: Frame) throws {
        try frame.requireOK()
    }
}

/// Calls numbered from the connection's number up to `total`, one step of `connections` at a
/// time (so the connections of a run share the numbers out), each request built by
/// `makeRequest` and each ending frame handed to `answer` with the call's number and the
/// connection's `state`, the tally the benchmark reads back from the run.
package struct NumberedCalls<State: Sendable>: PipelinedCalls {
    /// Builds the REQUEST frame of call `index` (any request id; it is set per call).
    package typealias MakeRequest = @Sendable (_ index: Int) -> ByteBuffer
    /// Takes the frame that ended call `index`; throwing stops the run.
    package typealias Answer = @Sendable (_ index: Int, _ frame: Frame, _ state: inout State) throws -> Void

    /// What the answers made of this connection's calls.
    package private(set) var state: State
    private let makeRequest: MakeRequest
    private let answer: Answer
    private var next: Int
    private let step: Int
    private let total: Int
    private var indexByRequestID: [Int] = []

    /// Calls `connection`, `connection + connections`, ... below `total`, starting from `state`.
    package init(
        connection: Int, connections: Int, total: Int, state: State, makeRequest: @escaping MakeRequest,
        answer: @escaping Answer
    ) {
        self.state = state
        self.makeRequest = makeRequest
        self.answer = answer
        next = connection
        step = max(1, connections)
        self.total = total
    }

    package mutating func nextRequest(requestID: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard next < total else { return nil }
        var frame = makeRequest(next)
        if frame.getInteger(at: frame.readerIndex + 8, as: UInt32.self) != requestID {
            frame.setInteger(requestID, at: frame.readerIndex + 8)
        }
        let slot = Int(requestID)
        if slot >= indexByRequestID.count {
            indexByRequestID += [Int](repeating: 0, count: slot + 1 - indexByRequestID.count)
        }
        indexByRequestID[slot] = next
        next += step
        return frame
    }

    package mutating func ended(_ frame: Frame) throws {
        try answer(indexByRequestID[Int(frame.requestID)], frame, &state)
    }
}

extension NumberedCalls where State == Void {
    /// Calls `connection`, `connection + connections`, ... below `total` that must each end OK.
    package init(connection: Int, connections: Int, total: Int, makeRequest: @escaping MakeRequest) {
        self.init(connection: connection, connections: connections, total: total, state: (), makeRequest: makeRequest) { _, frame, _ in
            try frame.requireOK()
        }
    }
}

extension Frame {
    /// Throws unless this frame ended its call with OK (a MESSAGE; a STATUS means the call failed).
    package func requireOK() throws {
        guard type != .message else { return }
        let status = type == .status ? try? payload.decodeProtoMessage(Retain_V1_CallStatus.self) : nil
        throw PipelinedClientError(message: "call ended with \(type)\(status.map { " \($0.code): \($0.message)" } ?? "")")
    }
}
