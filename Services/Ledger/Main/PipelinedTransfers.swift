import NIOCore
import NIOPosix
import RetainProto
import RetainRPC

/// The load generator of `retain-ledger bench`: keeps `inFlight` CreateTransfers calls open on
/// one connection, sending the next (a patched ``TransferFrames`` frame) as each answer
/// arrives, and counts the transfers the answers report applied. A plain NIO handler with
/// pre-encoded frames, so the client costs little beside the server it measures (the same
/// design as Tools/Bench's `PipelinedClient`).
final class PipelinedTransfers: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    /// What one connection did.
    struct Tally: Sendable {
        /// Transfers the answers report applied (OK, including replays).
        var applied = 0
        /// Calls answered.
        var calls = 0
    }

    /// When the load stops.
    enum Limit: Sendable {
        /// No new call after this moment.
        case until(NIODeadline)
        /// No new call once this many have been sent.
        case calls(Int)
    }

    private var frames: TransferFrames
    private let inFlight: Int
    private let limit: Limit
    private let compact: Bool
    private let done: EventLoopPromise<Tally>
    private var tally = Tally()
    private var sent = 0
    private var outstanding = 0
    private var nextRequestID: UInt32 = 1
    private var finished = false

    init(frames: TransferFrames, inFlight: Int, limit: Limit, compact: Bool, done: EventLoopPromise<Tally>) {
        self.frames = frames
        self.inFlight = inFlight
        self.limit = limit
        self.compact = compact
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        for _ in 0..<inFlight where mayStart() { send(context) }
        context.flush()
        if outstanding == 0 { finish(context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.type == .message, frame.flags.contains(.end), !frame.flags.contains(.compressed) else {
            let status = frame.type == .status ? (try? frame.payload.decodeProtoMessage(Retain_V1_CallStatus.self)) : nil
            fail(context, LoadError("CreateTransfers answered \(frame.type) \(status.map { "\($0.code) \($0.message)" } ?? "")"))
            return
        }
        guard let applied = TransferAnswer.applied(in: frame.payload, compact: compact) else {
            fail(context, LoadError("CreateTransfers answer does not decode"))
            return
        }
        tally.applied += applied
        tally.calls += 1
        outstanding -= 1
        if mayStart() {
            send(context)
        } else if outstanding == 0 {
            finish(context)
        }
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
        done.fail(LoadError("connection closed with \(outstanding) calls in flight"))
    }

    private func mayStart() -> Bool {
        switch limit {
        case .until(let deadline): NIODeadline.now() < deadline
        case .calls(let count): sent < count
        }
    }

    private func send(_ context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: frames.size)
        frames.write(requestID: nextRequestID, into: &buffer)
        nextRequestID = nextRequestID == .max ? 1 : nextRequestID + 1
        sent += 1
        outstanding += 1
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    private func finish(_ context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        done.succeed(tally)
        context.close(promise: nil)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        guard !finished else { return }
        finished = true
        done.fail(error)
        context.close(promise: nil)
    }

    /// Runs the load on `connections` connections to the ledger on `port`, `inFlight` calls
    /// each; returns the transfers applied and calls answered over all of them.
    static func run(port: Int, connections: Int, inFlight: Int, limit: Limit, compact: Bool,
                    makeFrames: (Int) -> TransferFrames) async throws -> Tally {
        let group = MultiThreadedEventLoopGroup.singleton
        var futures: [EventLoopFuture<Tally>] = []
        for connection in 0..<connections {
            let loop = group.next()
            let promise = loop.makePromise(of: Tally.self)
            let frames = makeFrames(connection)
            let connected = ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(FrameDecoder(maximumPayloadSize: 64 << 20)),
                            PipelinedTransfers(frames: frames, inFlight: inFlight, limit: limit, compact: compact, done: promise),
                        ])
                    }
                }
                .connect(host: "127.0.0.1", port: port)
            connected.whenFailure { promise.fail($0) }
            futures.append(promise.futureResult)
        }
        var total = Tally()
        for future in futures {
            let tally = try await future.get()
            total.applied += tally.applied
            total.calls += tally.calls
        }
        return total
    }
}

/// Reads what a `CreateTransfersResponse` reports without building the message: a scan of the
/// protobuf wire format for the fields that count.
enum TransferAnswer {
    /// Transfers applied (OK, including replays) per the answer, or nil when it is malformed.
    /// `compact`: the answer to a request with `omit_applied` (newly applied ones counted in
    /// `applied`, field 2); otherwise one result per transfer.
    static func applied(in payload: ByteBuffer, compact: Bool) -> Int? {
        payload.withUnsafeReadableBytes { bytes -> Int? in
            var reader = WireReader(bytes: bytes)
            var count = 0
            while !reader.atEnd {
                guard let (field, wire) = reader.tag() else { return nil }
                switch (field, wire) {
                case (1, 2):
                    guard let result = reader.lengthDelimited(), let code = resultCode(result) else { return nil }
                    if code == 1 { count += 1 }
                case (2, 0):
                    guard let applied = reader.varint() else { return nil }
                    if compact { count += Int(applied) }
                default:
                    guard reader.skip(wire) else { return nil }
                }
            }
            return count
        }
    }

    /// The `code` (field 3) of an encoded `TransferResult`.
    private static func resultCode(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        var reader = WireReader(bytes: bytes)
        var code: UInt64 = 0
        while !reader.atEnd {
            guard let (field, wire) = reader.tag() else { return nil }
            if field == 3, wire == 0 {
                guard let value = reader.varint() else { return nil }
                code = value
            } else if !reader.skip(wire) {
                return nil
            }
        }
        return code
    }

    /// A cursor over protobuf wire-format bytes.
    struct WireReader {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        var atEnd: Bool { position >= bytes.count }

        mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while position < bytes.count, shift < 64 {
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }

        mutating func tag() -> (UInt64, UInt64)? {
            varint().map { ($0 >> 3, $0 & 7) }
        }

        mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
            guard let length = varint(), length <= UInt64(bytes.count - position) else { return nil }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<position + Int(length)])
            position += Int(length)
            return slice
        }

        mutating func skip(_ wire: UInt64) -> Bool {
            switch wire {
            case 0: return varint() != nil
            case 1: position += 8
            case 2: return lengthDelimited() != nil
            case 5: position += 4
            default: return false
            }
            return position <= bytes.count
        }
    }
}
