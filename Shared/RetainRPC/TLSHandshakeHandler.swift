import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// Sits right behind the NIOSSL handler and watches the handshake, so that a connection whose
/// handshake fails or stalls ends cleanly instead of hanging:
///
/// - a handshake error (a plaintext peer, an untrusted or missing certificate) closes the
///   connection and fails ``established``, without reaching the RPC handler behind;
/// - a handshake that has not finished within the timeout (a peer that connects and sends
///   nothing, or half a handshake) does the same;
/// - once established, a peer that closes TCP without TLS's close_notify is an ordinary end
///   of input: the `uncleanShutdown` error is dropped so that the RPC handler sees only the
///   half-closure and finishes the calls that run, as it does without TLS.
final class TLSHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum State {
        case handshaking
        case established
        case failed
    }

    private var state = State.handshaking
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private let logger: Logger
    private let failureLevel: Logger.Level
    private let promise: EventLoopPromise<Void>

    /// Succeeds when the handshake completes; fails with ``TLSHandshakeFailure`` when it fails,
    /// times out, or the connection closes first.
    var established: EventLoopFuture<Void> { promise.futureResult }

    /// - Parameters:
    ///   - timeout: how long the handshake may take from the moment the connection is active.
    ///   - failureLevel: the level at which a failed handshake is logged.
    init(timeout: TimeAmount, logger: Logger, failureLevel: Logger.Level, eventLoop: any EventLoop) {
        self.timeout = timeout
        self.logger = logger
        self.failureLevel = failureLevel
        self.promise = eventLoop.makePromise()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startTimer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        if state == .handshaking {
            state = .failed
            promise.fail(TLSHandshakeFailure(reason: "connection closed during the TLS handshake"))
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        startTimer(context: context)
        context.fireChannelActive()
    }

    private func startTimer(context: ChannelHandlerContext) {
        guard timer == nil, state == .handshaking else { return }
        let timeout = timeout
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.fail(
                context: context,
                TLSHandshakeFailure(
                    reason: "no TLS handshake within \(timeout.nanoseconds / 1_000_000) ms"))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event, state == .handshaking {
            state = .established
            timer?.cancel()
            timer = nil
            promise.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .handshaking:
            fail(context: context, TLSHandshakeFailure(reason: "\(error)"))
        case .established:
            if let error = error as? NIOSSLError, case .uncleanShutdown = error {
                logger.trace("peer closed without TLS close_notify")
                return
            }
            context.fireErrorCaught(error)
        case .failed:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if state == .handshaking {
            fail(context: context, TLSHandshakeFailure(reason: "connection closed during the TLS handshake"))
        }
        context.fireChannelInactive()
    }

    private func fail(context: ChannelHandlerContext, _ failure: TLSHandshakeFailure) {
        guard state == .handshaking else { return }
        state = .failed
        timer?.cancel()
        timer = nil
        logger.log(
            level: failureLevel, "TLS handshake failed; closing connection",
            metadata: [
                "rpc.peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")", "error": "\(failure.reason)",
            ])
        promise.fail(failure)
        context.close(promise: nil)
    }
}

/// A TLS handshake that failed, timed out or was cut short; `reason` says which and why.
struct TLSHandshakeFailure: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
