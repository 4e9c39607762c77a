public import NIOCore
import NIOHTTP1
public import NIOPosix

/// A minimal HTTP/1.1 GET client for the operations endpoints: the launcher waits on `/readyz`
/// with it, and tests read `/metrics`.
public enum OpsProbe {
    /// An HTTP answer.
    public struct Response: Sendable {
        /// The status code, e.g. 200.
        public var status: Int
        /// The body as UTF-8 text.
        public var body: String
    }

    /// Sends `GET path` to `host:port` on a new connection and returns the answer; throws when
    /// the connection fails or no complete answer arrives within `timeout`.
    public static func get(
        host: String = "127.0.0.1", port: Int, path: String, timeout: Duration = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> Response {
        let timeout = TimeAmount.nanoseconds(
            Int64(timeout.components.seconds) * 1_000_000_000
                + Int64(timeout.components.attoseconds / 1_000_000_000))
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ProbeHandler())
                }
            }
            .connect(host: host, port: port)
            .get()
        defer { channel.close(promise: nil) }
        let promise = channel.eventLoop.makePromise(of: Response.self)
        let timeoutTask = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(ChannelError.connectTimeout(timeout))
        }
        defer { timeoutTask.cancel() }
        try await channel.eventLoop.submit {
            let handler = try channel.pipeline.syncOperations.handler(type: ProbeHandler.self)
            handler.promise = promise
            var headers = HTTPHeaders()
            headers.add(name: "host", value: "\(host):\(port)")
            headers.add(name: "connection", value: "close")
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }.get()
        return try await promise.futureResult.get()
    }

    /// Collects one response and completes the promise with it.
    private final class ProbeHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart

        var promise: EventLoopPromise<Response>?
        private var status = 0
        private var body = ByteBuffer()

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                status = Int(head.status.code)
            case .body(var chunk):
                body.writeBuffer(&chunk)
            case .end:
                promise?.succeed(Response(status: status, body: String(buffer: body)))
                promise = nil
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise?.fail(ChannelError.eof)
            promise = nil
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise?.fail(error)
            promise = nil
            context.close(promise: nil)
        }
    }
}
