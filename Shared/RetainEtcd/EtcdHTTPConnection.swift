import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection to one etcd member, used by one request at a time.
final class EtcdHTTPConnection: Sendable {
    /// The index of the member in the client's endpoint list.
    let endpointIndex: Int
    let endpoint: EtcdEndpoint
    let channel: any Channel
    private let handler: NIOLoopBound<EtcdResponseHandler>

    private init(endpointIndex: Int, endpoint: EtcdEndpoint, channel: any Channel, handler: NIOLoopBound<EtcdResponseHandler>) {
        self.endpointIndex = endpointIndex
        self.endpoint = endpoint
        self.channel = channel
        self.handler = handler
    }

    /// True while the connection is open.
    var isActive: Bool { channel.isActive }

    /// Opens a connection to `endpoint` within `timeout`.
    static func connect(
        to endpoint: EtcdEndpoint, index: Int, group: any EventLoopGroup, timeout: Duration,
        maximumBodySize: Int
    ) async throws(EtcdTransportFailure) -> EtcdHTTPConnection {
        let channel = try await Self.open(endpoint, group: group, timeout: timeout) { channel in
            try channel.pipeline.syncOperations.addHandler(EtcdResponseHandler(maximumBodySize: maximumBodySize))
        }
        do {
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: EtcdResponseHandler.self), eventLoop: channel.eventLoop)
            }.get()
            return EtcdHTTPConnection(endpointIndex: index, endpoint: endpoint, channel: channel, handler: handler)
        } catch {
            channel.close(promise: nil)
            throw .connect("\(error)")
        }
    }

    /// Opens a TCP connection to `endpoint` with the HTTP/1.1 client codec, then `addHandlers`.
    static func open(
        _ endpoint: EtcdEndpoint, group: any EventLoopGroup, timeout: Duration,
        addHandlers: @escaping @Sendable (any Channel) throws -> Void
    ) async throws(EtcdTransportFailure) -> any Channel {
        do {
            return try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(TimeAmount(timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try addHandlers(channel)
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port)
                .get()
        } catch {
            throw .connect("cannot connect to \(endpoint): \(error)")
        }
    }

    /// The head of a JSON POST to `path` on `endpoint`.
    static func requestHead(_ path: String, endpoint: EtcdEndpoint, contentLength: Int) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(endpoint.host):\(endpoint.port)")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(contentLength))
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)
    }

    /// POSTs `body` to `path` and waits for the whole answer, at most `timeout`.
    func post(_ path: String, body: [UInt8], timeout: Duration) async throws(EtcdTransportFailure) -> EtcdHTTPResponse {
        let head = Self.requestHead(path, endpoint: endpoint, contentLength: body.count)
        let buffer = channel.allocator.buffer(bytes: body)
        let promise = channel.eventLoop.makePromise(of: EtcdHTTPResponse.self)
        let handler = handler
        channel.eventLoop.execute {
            handler.value.send(head, body: buffer, timeout: TimeAmount(timeout), promise: promise)
        }
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: { [channel] in
                channel.close(promise: nil)
            }
        } catch let failure as EtcdTransportFailure {
            throw failure
        } catch {
            throw .closed
        }
    }

    /// Closes the connection.
    func close() {
        channel.close(promise: nil)
    }
}
