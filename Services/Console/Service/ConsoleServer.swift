public import ConsoleCore
public import Logging
public import NIOCore
import NIOHTTP1
public import NIOPosix
public import ServiceLifecycle

/// The console's HTTP/1.1 server on SwiftNIO: one task per connection in a discarding task
/// group (swift-nio's `NIOTCPEchoServer`), requests on a connection answered in order
/// (keep-alive), each request's body capped before it is buffered.
///
/// It does HTTP and nothing else: a complete request becomes a ``ConsoleRequest``, the
/// `respond` function (the ``ConsoleApp``) answers it, and the answer is written back.
public final class ConsoleServer: Service, Sendable {
    /// Where to listen and how much to accept.
    public struct Configuration: Sendable {
        /// Address to bind. Default 127.0.0.1.
        public var host = "127.0.0.1"
        /// Port to bind; 0 picks a free one. Default 8080.
        public var port = 8080
        /// The largest request body read; a larger one is answered 413 without buffering it.
        /// Default 64 KiB (the console's forms are small).
        public var maximumBodyBytes = 64 << 10

        public init() {}
    }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    private let channel: NIOAsyncChannel<Connection, Never>
    private let configuration: Configuration
    private let respond: @Sendable (ConsoleRequest) async -> ConsoleResponse
    private let logger: Logger

    /// The bound address.
    public var localAddress: SocketAddress? { channel.channel.localAddress }

    private init(
        channel: NIOAsyncChannel<Connection, Never>, configuration: Configuration,
        respond: @escaping @Sendable (ConsoleRequest) async -> ConsoleResponse, logger: Logger
    ) {
        self.channel = channel
        self.configuration = configuration
        self.respond = respond
        self.logger = logger
    }

    /// Binds the port; ``run()`` serves it.
    public static func bind(
        configuration: Configuration, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        respond: @escaping @Sendable (ConsoleRequest) async -> ConsoleResponse
    ) async throws -> ConsoleServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        return ConsoleServer(channel: channel, configuration: configuration, respond: respond, logger: logger)
    }

    /// Serves connections until graceful shutdown, then stops accepting and closes the open
    /// connections: a browser keeps idle keep-alive connections open indefinitely, and the
    /// console holds nothing that a request cut short would lose (a form posted again carries
    /// the same request id, so the workflow answers it once).
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.channel.channel.close(promise: nil)
        }
    }

    /// Answers the requests of one connection in order; errors end the connection only.
    private func serve(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                var tooLarge = false
                for try await part in inbound {
                    switch part {
                    case .head(let next):
                        head = next
                        body.clear()
                        tooLarge = false
                    case .body(var chunk):
                        if body.readableBytes + chunk.readableBytes > configuration.maximumBodyBytes {
                            tooLarge = true
                        } else if !tooLarge {
                            body.writeBuffer(&chunk)
                        }
                    case .end:
                        guard let request = head else { continue }
                        head = nil
                        let response: ConsoleResponse
                        if tooLarge {
                            response = .text("request body too large\n", status: 413)
                        } else {
                            response = await respond(
                                ConsoleRequest(
                                    method: request.method.rawValue, uri: request.uri,
                                    headers: request.headers.map { ($0.name, $0.value) }, body: String(buffer: body)))
                        }
                        let keepAlive = request.isKeepAlive && !tooLarge
                        try await write(
                            response, to: outbound, version: request.version, keepAlive: keepAlive, head: request.method == .HEAD)
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("console connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func write(
        _ response: ConsoleResponse, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, version: HTTPVersion,
        keepAlive: Bool, head: Bool
    ) async throws {
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "content-length", value: String(response.body.count))
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: response.status)
        // One write of all three parts: one flush per answer.
        var parts: [HTTPServerResponsePart] = [.head(HTTPResponseHead(version: version, status: status, headers: headers))]
        if !head, !response.body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: response.body)))) }
        parts.append(.end(nil))
        try await outbound.write(contentsOf: parts)
    }
}
