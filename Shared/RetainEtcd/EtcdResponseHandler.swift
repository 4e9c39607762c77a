import NIOCore
import NIOHTTP1

/// Sends one request at a time and gathers its answer into an `EtcdHTTPResponse`.
///
/// Its one job is the exchange on a keep-alive connection: no pipelining, so an answer always
/// belongs to the single pending request. A request that gets no full answer within its timeout
/// fails and closes the connection, since a late answer would otherwise be taken for the next one.
final class EtcdResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let maximumBodySize: Int
    private var context: ChannelHandlerContext?
    private var pending: EventLoopPromise<EtcdHTTPResponse>?
    private var timeout: Scheduled<Void>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    /// A handler that refuses answers longer than `maximumBodySize` bytes.
    init(maximumBodySize: Int) {
        self.maximumBodySize = maximumBodySize
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes `request` with `body`; `promise` completes with the answer, or fails with an
    /// `EtcdTransportFailure` after `timeout` or when the connection closes first.
    func send(
        _ request: HTTPRequestHead, body requestBody: ByteBuffer, timeout: TimeAmount,
        promise: EventLoopPromise<EtcdHTTPResponse>
    ) {
        guard let context, context.channel.isActive, pending == nil else {
            promise.fail(EtcdTransportFailure.closed)
            return
        }
        pending = promise
        head = nil
        body.clear()
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.timeout = context.eventLoop.scheduleTask(in: timeout) { bound.value.fail(.timedOut) }
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(requestBody))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard pending != nil else {
            // An answer nobody asked for: the connection is out of step.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(let part):
            guard body.readableBytes + part.readableBytes <= maximumBodySize else {
                fail(.malformed("answer larger than \(maximumBodySize) bytes"))
                return
            }
            body.writeImmutableBuffer(part)
        case .end:
            guard let head, let promise = pending else {
                fail(.malformed("answer ended before its head"))
                return
            }
            pending = nil
            timeout?.cancel()
            timeout = nil
            promise.succeed(EtcdHTTPResponse(status: Int(head.status.code), body: body, keepAlive: head.isKeepAlive))
            body = ByteBuffer()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(.malformed("\(error)"))
    }

    /// Fails the pending request, if any, and closes the connection.
    private func fail(_ failure: EtcdTransportFailure) {
        timeout?.cancel()
        timeout = nil
        if let promise = pending {
            pending = nil
            promise.fail(failure)
        }
        context?.close(promise: nil)
    }
}
