import NIOCore
import NIOHTTP1

/// Reads a watch's streamed answer and hands each line to `onLine`, as it arrives.
///
/// Its one job is turning the never-ending HTTP answer into lines and noticing the end: when
/// the answer ends, the connection closes, the first line (etcd's "created") does not come within
/// `firstLineTimeout` (a hung member still accepts connections), or, with an idle timeout,
/// nothing arrives for too long, `onEnd` is called once and the connection closed. `onEnd`'s
/// second argument says whether the member looks unwell (it timed out), so the client moves on.
final class EtcdWatchHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var splitter: EtcdLineSplitter
    private let firstLineTimeout: TimeAmount
    private let idleTimeout: TimeAmount?
    private let onLine: @Sendable ([UInt8]) -> Bool
    private let onEnd: @Sendable (EtcdError, Bool) -> Void
    private var idleTimer: Scheduled<Void>?
    private var sawLine = false
    private var ended = false

    /// A handler that passes lines to `onLine` (which returns false to stop the watch) and reports
    /// the end of the stream to `onEnd`.
    init(
        maximumLineLength: Int, firstLineTimeout: TimeAmount, idleTimeout: TimeAmount?,
        onLine: @escaping @Sendable ([UInt8]) -> Bool, onEnd: @escaping @Sendable (EtcdError, Bool) -> Void
    ) {
        self.splitter = EtcdLineSplitter(maximumLineLength: maximumLineLength)
        self.firstLineTimeout = firstLineTimeout
        self.idleTimeout = idleTimeout
        self.onLine = onLine
        self.onEnd = onEnd
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer(context: context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armIdleTimer(context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !ended else { return }
        switch unwrapInboundIn(data) {
        case .head:
            break
        case .body(let chunk):
            do {
                for line in try splitter.append(chunk) where !ended {
                    sawLine = true
                    if !onLine(line) { end(context: context, EtcdError(.unavailable, "watch stopped")) }
                }
                armIdleTimer(context: context)
            } catch {
                end(context: context, error)
            }
        case .end:
            if let last = splitter.finish(), !ended { _ = onLine(last) }
            end(context: context, EtcdError(.unavailable, "etcd ended the watch stream"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(context: context, EtcdError(.unavailable, "the watch connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        end(context: context, EtcdError(.unavailable, "the watch connection failed: \(error)"))
    }

    /// Arms the timer for what must arrive next: the first line, or (if configured) any line.
    private func armIdleTimer(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
        guard !ended, let timeout = sawLine ? idleTimeout : Optional(firstLineTimeout) else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let what = sawLine ? "nothing arrived on the watch" : "etcd did not confirm the watch"
        idleTimer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            handler.end(context: context, EtcdError(.unavailable, "\(what) within \(timeout)"), memberSuspect: true)
        }
    }

    private func end(context: ChannelHandlerContext, _ error: EtcdError, memberSuspect: Bool = false) {
        guard !ended else { return }
        ended = true
        idleTimer?.cancel()
        idleTimer = nil
        onEnd(error, memberSuspect)
        context.close(promise: nil)
    }
}
