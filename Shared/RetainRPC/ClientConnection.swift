import Logging
import RetainProto
import NIOCore
import NIOPosix
import RetainWire
import Synchronization

/// One TCP connection to one server address, opened on first use and again after it closes
/// or the server sends GOAWAY.
final class ClientConnection: Sendable {
    /// A connected channel and its call handler.
    struct Ready: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<ClientConnectionHandler>
        let nextRequestID: Atomic<UInt32>.Box
    }

    private enum State {
        case idle
        case connecting(EventLoopFuture<Ready>)
        case ready(Ready)
        case closed
    }

    let host: String
    let port: Int
    private let configuration: RPCClient.Configuration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state: Mutex<State> = Mutex(.idle)
    /// The event loop the connection is opened on, when it was given one.
    let eventLoop: (any EventLoop)?
    /// When ``connectSoon()`` last started connecting (uptime nanoseconds), 0 for never.
    private let lastConnectSoon = Atomic<UInt64>(0)

    init(host: String, port: Int, configuration: RPCClient.Configuration, group: any EventLoopGroup, logger: Logger) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.group = group
        self.eventLoop = group as? any EventLoop
        self.logger = logger
    }

    /// Starts connecting without waiting when the connection is idle, at most once a second
    /// (a connection that keeps failing is tried again by the calls that wait for it).
    func connectSoon() {
        let now = NIODeadline.now().uptimeNanoseconds
        let last = lastConnectSoon.load(ordering: .relaxed)
        guard last == 0 || now &- last >= 1_000_000_000,
            lastConnectSoon.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged
        else { return }
        state.withLock { state in
            guard case .idle = state else { return }
            state = .connecting(connect())
        }
    }

    /// The connection if it is up, without waiting.
    var readyNow: Ready? {
        state.withLock { state in
            guard case .ready(let ready) = state else { return nil }
            // A channel that closed a moment ago may not have been forgotten yet.
            guard ready.channel.isActive else {
                state = .idle
                return nil
            }
            return ready
        }
    }

    /// A ready connection, connecting if needed. Throws UNAVAILABLE when the server cannot be reached.
    func ready() async throws -> Ready {
        if let ready = readyNow { return ready }
        let future: EventLoopFuture<Ready> = try state.withLock { state in
            switch state {
            case .ready(let ready):
                return ready.channel.eventLoop.makeSucceededFuture(ready)
            case .connecting(let future):
                return future
            case .closed:
                throw RPCError(.unavailable, "client is closed")
            case .idle:
                let future = connect()
                state = .connecting(future)
                return future
            }
        }
        do {
            return try await future.get()
        } catch let error as RPCError {
            throw error
        } catch let failure as TLSHandshakeFailure {
            throw RPCError(
                .unavailable, "TLS handshake with \(host):\(port) failed: \(failure.reason)",
                details: ["not_processed": "true"])
        } catch {
            throw RPCError(.unavailable, "cannot connect to \(host):\(port): \(error)", details: ["not_processed": "true"])
        }
    }

    private func connect() -> EventLoopFuture<Ready> {
        let configuration = configuration
        let logger = logger
        let future = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = configuration.tls {
                        try channel.pipeline.syncOperations.addHandlers(
                            tls.makeHandlers(host: self.host, eventLoop: channel.eventLoop, logger: logger))
                    }
                    let handler = ClientConnectionHandler(configuration: configuration, logger: logger) { [weak self] in
                        self?.forget(channel)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: host, port: port)
            .flatMap { channel -> EventLoopFuture<any Channel> in
                // Over TLS, the connection is ready once the handshake completed.
                guard configuration.tls != nil else { return channel.eventLoop.makeSucceededFuture(channel) }
                do {
                    return try channel.pipeline.syncOperations.handler(type: TLSHandshakeHandler.self).established
                        .map { channel }
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .flatMapThrowing { channel -> Ready in
                let handler = try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self)
                return Ready(
                    channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop),
                    nextRequestID: Atomic<UInt32>.Box(0))
            }
        future.whenComplete { [weak self] result in
            guard let self else { return }
            self.state.withLock { state in
                guard case .connecting = state else { return }
                switch result {
                case .success(let ready): state = .ready(ready)
                case .failure: state = .idle
                }
            }
            if case .success(let ready) = result {
                ready.channel.closeFuture.whenComplete { _ in self.forget(ready.channel) }
            }
        }
        return future
    }

    /// Stops using `channel` for new calls; the next call opens a new connection.
    private func forget(_ channel: any Channel) {
        state.withLock { state in
            if case .ready(let ready) = state, ready.channel === channel { state = .idle }
        }
    }

    /// Closes the connection; later calls fail with UNAVAILABLE.
    func close() async {
        let channel: (any Channel)? = state.withLock { state in
            defer { state = .closed }
            if case .ready(let ready) = state { return ready.channel }
            return nil
        }
        try? await channel?.close()
    }
}

extension Atomic where Value == UInt32 {
    /// A heap box so an atomic can travel inside a Sendable struct.
    final class Box: Sendable {
        let value: Atomic<UInt32>
        init(_ initial: UInt32) { value = Atomic(initial) }

        /// The next non-zero request id.
        func next() -> UInt32 {
            while true {
                let id = value.wrappingAdd(1, ordering: .relaxed).newValue
                if id != 0 { return id }
            }
        }
    }
}
