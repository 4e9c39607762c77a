import NIOCore
import NIOHTTP1

/// Answers the HTTP/1.1 requests of one operations connection: GET (or HEAD) of a path, answered
/// by a function of the path; other methods get 405. Keep-alive follows the request.
final class OpsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// One answer: status, content type and body.
    struct Answer: Sendable {
        var status: HTTPResponseStatus
        var contentType: String
        var body: [UInt8]

        /// A plain-text answer.
        static func text(_ status: HTTPResponseStatus, _ text: String) -> Answer {
            Answer(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
        }
    }

    private let answer: @Sendable (String) -> Answer
    private var head: HTTPRequestHead?

    init(answer: @escaping @Sendable (String) -> Answer) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let reply: Answer
        if head.method == .GET || head.method == .HEAD {
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            reply = answer(path)
        } else {
            reply = .text(.methodNotAllowed, "only GET and HEAD are served\n")
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: reply.contentType)
        headers.add(name: "content-length", value: String(reply.body.count))
        if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: reply.status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD, !reply.body.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply.body)))),
                promise: nil)
        }
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
