public import Logging
public import NIOCore
public import NIOPosix
public import RetainAuth
public import RetainProto
import RetainWire
import Synchronization

/// Calls Retain services: multiplexes concurrent calls over one connection per address,
/// spreads calls round-robin over addresses, and reconnects after a failure or a drain.
public final class RPCClient: Sendable {
    /// Timeouts and limits.
    public struct Configuration: Sendable {
        /// How long to wait for a TCP connection. Default 2 s.
        public var connectTimeout: TimeAmount = .seconds(2)
        /// Send a PING after this much silence, and close when the next tick finds it unanswered;
        /// nil turns keepalive off. Default 30 s.
        public var keepaliveInterval: TimeAmount? = .seconds(30)
        /// Largest answer accepted. Default 4 MiB.
        public var maximumPayloadSize: Int = 4 << 20
        /// Requests at least this many bytes are sent zstd-compressed, and the server is told it
        /// may compress large answers; nil turns compression off. Default 64 KiB.
        public var compressionThreshold: Int? = 64 << 10
        /// Connections to open to each address. Default 1.
        public var connectionsPerAddress: Int = 1
        /// Supplies the credential of calls whose options carry none (a service's own token,
        /// minted fresh and reused until near expiry). Default nil: calls carry what their
        /// options say.
        public var credentials: (any CallCredentials)?
        /// TLS on every connection (trust roots, client certificate, expected server name); nil
        /// connects in plaintext. A connection is used only once its handshake completed; a
        /// failed handshake fails the call with UNAVAILABLE saying why. Default nil.
        public var tls: ClientTLS?
        /// The flow-control window of each server stream called with ``RPCClient/serverStreaming(_:_:options:)``
        /// (PROTOCOL.md §15): the server sends at most this many bytes of answers beyond what the
        /// application has consumed, and the client grants more as it consumes. 0 asks for none
        /// (the server then sends as fast as its handler produces). Default 256 KiB.
        public var streamWindowBytes: Int = 256 << 10

        public init() {}
    }

    private let connections: [ClientConnection]
    private let credentials: (any CallCredentials)?
    private let compressionThreshold: Int?
    private let streamWindowBytes: Int
    private let next = Atomic<Int>(0)

    /// Creates a client for `host:port` pairs. Connections open on first use.
    public init(
        targets: [(host: String, port: Int)], configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "retain.rpc.client")
    ) {
        precondition(!targets.isEmpty, "an RPC client needs at least one target")
        var connections: [ClientConnection] = []
        // The connections to one address go to the group's event loops in turn from the one
        // `group.next()` names (one per loop when there are as many connections as loops), so a
        // caller on an event loop usually finds one on its own loop (``connectedNow()``).
        let loops = Array(group.makeIterator())
        for target in targets {
            let first = group.next()
            let start = loops.firstIndex { $0 === first } ?? 0
            for index in 0..<max(1, configuration.connectionsPerAddress) {
                var loop = group
                if !loops.isEmpty { loop = loops[(start + index) % loops.count] }
                connections.append(
                    ClientConnection(
                        host: target.host, port: target.port,
                        configuration: configuration, group: loop, logger: logger))
            }
        }
        self.connections = connections
        self.compressionThreshold = configuration.compressionThreshold
        self.streamWindowBytes = min(max(0, configuration.streamWindowBytes), Int(Int32.max))
        self.credentials = configuration.credentials
    }

    /// The credentials' authorization for `path` when `options` carry none (nil when there is
    /// none to add). Returned apart rather than as a changed copy of the options: copying them
    /// on every call costs a share of a small call.
    private func addedAuthorization(_ options: CallOptions, path: String) -> String? {
        guard let credentials, options.authorization.isEmpty else { return nil }
        let authorization = credentials.authorization(forMethod: path)
        return authorization.isEmpty ? nil : authorization
    }

    /// The header fields to append to `headerPrefix` (the method's packed header): nil when
    /// the prefix alone says everything. `authorization` replaces the options' (empty) one.
    private func header(
        _ path: String, _ headerPrefix: [UInt8], _ options: CallOptions, authorization: String?
    ) -> Retain_V1_CallHeader? {
        let accepts = compressionThreshold != nil
        guard !headerPrefix.isEmpty, options.isDefault, authorization == nil else {
            var header = options.header(method: headerPrefix.isEmpty ? path : "")
            if let authorization { header.authorization = authorization }
            header.acceptCompression = accepts
            return header
        }
        return nil
    }

    /// The method's packed header, saying whether this client accepts compressed answers.
    @usableFromInline
    func headerPrefix<I, O>(_ method: RPCMethod<I, O>) -> [UInt8] {
        compressionThreshold == nil ? method.headerBytes : method.headerBytesAcceptingCompression
    }

    /// Creates a client for one server.
    public convenience init(
        host: String, port: Int, configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "retain.rpc.client")
    ) {
        self.init(targets: [(host, port)], configuration: configuration, group: group, logger: logger)
    }

    /// A connection that is already up, without suspending: one on the calling thread's event
    /// loop when there is one (a call started there crosses no thread), else in round-robin
    /// order. A connection of the calling loop that is not up yet starts connecting, for the
    /// calls after this one.
    private func connectedNow() -> ClientConnection.Ready? {
        if connections.count == 1 { return connections[0].readyNow }
        var other: ClientConnection.Ready?
        var idleHere: ClientConnection?
        let start = next.wrappingAdd(1, ordering: .relaxed).oldValue
        for offset in 0..<connections.count {
            let candidate = connections[(start &+ offset) % connections.count]
            guard let ready = candidate.readyNow else {
                if idleHere == nil, candidate.eventLoop?.inEventLoop == true { idleHere = candidate }
                continue
            }
            if ready.channel.eventLoop.inEventLoop { return ready }
            if other == nil { other = ready }
        }
        if other != nil { idleHere?.connectSoon() }
        return other
    }

    /// A connection that is up, else the first that connects, in round-robin order.
    private func connection() async throws -> ClientConnection.Ready {
        // Prefer a connection that is already up; otherwise connect in round-robin order.
        if let ready = connectedNow() { return ready }
        let start = next.wrappingAdd(1, ordering: .relaxed).oldValue
        var lastError: (any Error)?
        for offset in 0..<connections.count {
            do {
                return try await connections[(start &+ offset) % connections.count].ready()
            } catch {
                lastError = error
            }
        }
        throw lastError ?? RPCError(.unavailable, "no server reachable")
    }

    /// Calls a unary method and returns its answer, or throws ``RPCError`` with the status.
    ///
    /// It runs on the caller's executor (`nonisolated(nonsending)`) until it waits for the
    /// answer: entering it and ``send(headerPrefix:path:options:writeMessage:)`` costs no
    /// executor switch.
    @inlinable
    nonisolated(nonsending) public func unary<I, O>(
        _ method: RPCMethod<I, O>, _ request: I, options: CallOptions = .default
    ) async throws -> O {
        let answer = try await send(headerPrefix: headerPrefix(method), path: method.path, options: options) { buffer in
            Self.withThreadArena { _ = buffer.writeProtoMessage(request, arena: $0) }
        }
        return try Self.withThreadArena { try answer.decodeProtoMessage(O.self, arena: $0) }
    }

    /// Runs `body` with the calling thread's arena, reset after it. Encoding a request and
    /// decoding an answer never suspend, so no two of them share the arena at once; an arena of
    /// their own per call cost two allocations and two frees per call.
    @inlinable
    static func withThreadArena<R>(_ body: (ProtoArena) throws -> R) rethrows -> R {
        let arena = threadArena()
        defer { arena.reset() }
        return try body(arena)
    }

    /// The calling thread's arena (made on first use, freed when the thread ends).
    @usableFromInline
    static func threadArena() -> ProtoArena {
        if let arena = arenas.currentValue { return arena }
        let arena = ProtoArena()
        arenas.currentValue = arena
        return arena
    }

    /// Each thread's arena. Only ``threadArena()`` touches it, from the thread it serves.
    private nonisolated(unsafe) static let arenas = ThreadSpecificVariable<ProtoArena>()

    /// Starts a unary call without suspending, when a connection is up now: the request is
    /// handed to the connection's event loop and `completion` is told the answer (or the error)
    /// there. Returns false, and starts nothing, when no connection is up: the caller falls back
    /// to ``unary(_:_:options:)``, which connects. For callers on a thread that must not wait (a
    /// storage callback); a refused call is not retried.
    public func startUnary<I, O>(
        _ method: RPCMethod<I, O>, _ request: I, options: CallOptions = .default,
        completion: @escaping @Sendable (Result<O, any Error>) -> Void
    ) -> Bool {
        guard let ready = connectedNow() else { return false }
        let path = method.path
        let prefix = headerPrefix(method)
        let authorization = addedAuthorization(options, path: path)
        let id = ready.nextRequestID.next()
        var frame = ByteBufferAllocator().buffer(capacity: 128)
        RequestPayload.writeFrame(
            requestID: id, headerPrefix: prefix, header: header(path, prefix, options, authorization: authorization),
            compressionThreshold: compressionThreshold, into: &frame
        ) { buffer in
            Self.withThreadArena { _ = buffer.writeProtoMessage(request, arena: $0) }
        }
        let frameToSend = frame
        let handler = ready.handler
        let timeout = options.timeout
        ready.channel.eventLoop.execute {
            handler.value.start(
                frameToSend, requestID: id,
                pending: .callback { result in
                    completion(result.flatMap { answer in Result { try answer.decodeProtoMessage(O.self) } })
                }, timeout: timeout)
        }
        return true
    }

    /// A unary call started with ``startUnaryRaw(path:request:options:completion:)``.
    public struct StartedCall: Sendable {
        let loop: any EventLoop
        let handler: NIOLoopBound<ClientConnectionHandler>
        let requestID: UInt32

        /// Gives up on the call: the server is sent CANCEL and the completion is told CANCELLED
        /// (nothing happens once the call has ended).
        public func cancel() {
            let (handler, id) = (handler, requestID)
            if loop.inEventLoop {
                handler.value.abandon(id, RPCError(.cancelled, "cancelled by the caller"))
            } else {
                loop.execute { handler.value.abandon(id, RPCError(.cancelled, "cancelled by the caller")) }
            }
        }
    }

    /// Starts a unary call with an already-encoded request without suspending, when a
    /// connection is up now, like ``startUnary(_:_:options:completion:)``: `completion` is told
    /// the encoded answer (or the error) on the connection's event loop. Called on that event
    /// loop (a connection on the caller's loop is preferred), the call is written at once and
    /// `completion` may run before this returns. Returns nil, and starts nothing, when no
    /// connection is up. A refused call is not sent again: the caller decides.
    public func startUnaryRaw(
        path: String, request: ByteBuffer, options: CallOptions = .default,
        completion: @escaping @Sendable (Result<ByteBuffer, any Error>) -> Void
    ) -> StartedCall? {
        guard let ready = connectedNow() else { return nil }
        let authorization = addedAuthorization(options, path: path)
        let id = ready.nextRequestID.next()
        var frame = ByteBufferAllocator().buffer(capacity: 128 + request.readableBytes)
        RequestPayload.writeFrame(
            requestID: id, headerPrefix: [], header: header(path, [], options, authorization: authorization),
            compressionThreshold: compressionThreshold, into: &frame
        ) { buffer in
            buffer.writeImmutableBuffer(request)
        }
        let handler = ready.handler
        let loop = ready.channel.eventLoop
        let timeout = options.timeout
        if loop.inEventLoop {
            handler.value.start(frame, requestID: id, pending: .callback(completion), timeout: timeout)
        } else {
            let frameToSend = frame
            loop.execute { handler.value.start(frameToSend, requestID: id, pending: .callback(completion), timeout: timeout) }
        }
        return StartedCall(loop: loop, handler: handler, requestID: id)
    }

    /// Calls a unary method with an already-encoded request; returns the encoded answer.
    /// Used by proxies that forward calls without knowing their types.
    nonisolated(nonsending) public func unaryRaw(
        path: String, request: ByteBuffer, options: CallOptions = .default
    ) async throws -> ByteBuffer {
        try await send(headerPrefix: [], path: path, options: options) { buffer in
            buffer.writeImmutableBuffer(request)
        }
    }

    /// Sends one REQUEST and waits for its answer. The call header is `headerPrefix` (the
    /// method's packed header) plus the options, or names `path` when there is no prefix;
    /// `writeMessage` writes the request message.
    ///
    /// A call the server certainly did not process (it was refused by a draining or closing
    /// connection: UNAVAILABLE with `not_processed`) is sent again once on a fresh connection,
    /// which is safe whatever the method does.
    @usableFromInline
    nonisolated(nonsending) func send(
        headerPrefix: [UInt8], path: String, options: CallOptions, writeMessage: (inout ByteBuffer) -> Void
    ) async throws -> ByteBuffer {
        let authorization = addedAuthorization(options, path: path)
        // One attempt, and a second after a refusal the server certainly did not process. The
        // attempt is written out here rather than as a function of its own: an async call
        // costs a frame from the task allocator, a measurable share of a small call.
        var retried = false
        while true {
            do {
                // Most calls find their connection up: no suspension point, no async frame for it.
                let ready: ClientConnection.Ready
                if let connected = connectedNow() { ready = connected } else { ready = try await connection() }
                let id = ready.nextRequestID.next()
                // The default allocator, which every channel here uses: asking the channel for
                // it off its event loop takes a lock.
                var frame = ByteBufferAllocator().buffer(capacity: 128)
                RequestPayload.writeFrame(
                    requestID: id, headerPrefix: headerPrefix,
                    header: header(path, headerPrefix, options, authorization: authorization),
                    compressionThreshold: compressionThreshold, into: &frame, writeMessage)
                let request = frame
                let handler = ready.handler
                let loop = ready.channel.eventLoop
                let timeout = options.timeout
                return try await withTaskCancellationHandler {
                    try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<ByteBuffer, any Error>) in
                        // A task cancelled before this point already ran its cancellation handler, which
                        // found no call to abandon: answer it here instead of starting the call.
                        if Task.isCancelled {
                            return continuation.resume(throwing: RPCError(.cancelled, "cancelled by the caller"))
                        }
                        loop.execute {
                            handler.value.start(request, requestID: id, pending: .unary(continuation), timeout: timeout)
                        }
                    }
                } onCancel: {
                    loop.execute { handler.value.abandon(id, RPCError(.cancelled, "cancelled by the caller")) }
                }
            } catch let error as RPCError where !retried && error.code == .unavailable && error.details["not_processed"] == "true" {
                retried = true
            }
        }
    }

    /// Calls a server-streaming method; the answers arrive as an async sequence that ends with
    /// the call, or throws its non-OK status. Breaking out of the loop cancels the call.
    public func serverStreaming<I, O>(
        _ method: RPCMethod<I, O>, _ request: I, options: CallOptions = .default
    ) -> RPCResponseStream<O> {
        let bytes = request.serializedBytes()
        let consumption = streamWindowBytes > 0 ? StreamConsumption() : nil
        let base = stream(
            headerPrefix: headerPrefix(method), path: method.path, options: options,
            consumption: consumption
        ) { buffer in
            buffer.writeBytes(bytes)
        }
        return RPCResponseStream(base: base, consumption: consumption)
    }

    /// Calls a server-streaming method with an already-encoded request; the answers arrive encoded.
    public func serverStreamingRaw(
        path: String, request: ByteBuffer, options: CallOptions = .default
    ) -> AsyncThrowingStream<ByteBuffer, any Error> {
        stream(headerPrefix: [], path: path, options: options) { $0.writeImmutableBuffer(request) }
    }

    /// Starts a server-streaming call whose answers are handed, decoded and in order, to
    /// `onAnswer` on the connection's event loop as they arrive, with no task woken per answer;
    /// `onEnd` is told once how the call ended (nil: the server ended it with OK). An answer that
    /// does not decode ends the call with that error. Each answer counts as consumed when
    /// `onAnswer` returns (the flow-control window is granted back then), so `onAnswer` must be
    /// quick and must not block: it runs on the event loop of every call of the connection.
    /// Returns once the call is sent (after connecting, when no connection is up).
    public func startServerStreaming<I, O>(
        _ method: RPCMethod<I, O>, _ request: I, options: CallOptions = .default,
        onAnswer: @escaping @Sendable (O) -> Void, onEnd: @escaping @Sendable ((any Error)?) -> Void
    ) async throws -> RPCStartedCall {
        let ready = try await connection()
        let id = ready.nextRequestID.next()
        let window = streamWindowBytes
        let bytes = request.serializedBytes()
        let frame = streamFrame(
            requestID: id, headerPrefix: headerPrefix(method), path: method.path, options: options, window: window
        ) { $0.writeBytes(bytes) }
        let handler = ready.handler
        let loop = ready.channel.eventLoop
        let ended = OnceFlag()
        let sink = ClientConnectionHandler.StreamSink(
            onAnswer: { payload in
                guard !ended.isSet else { return }
                do {
                    onAnswer(try payload.decodeProtoMessage(O.self))
                } catch {
                    // Ends the call here; the abandon below finds it gone from the table
                    // only after this answer, so the sink's end is told once (guarded).
                    if ended.set() { onEnd(error) }
                    loop.execute { handler.value.abandon(id, RPCError(.cancelled, "an answer did not decode")) }
                }
            },
            onEnd: { error in
                if ended.set() { onEnd(error) }
            })
        let request = frame
        loop.execute {
            handler.value.start(request, requestID: id, pending: .stream(sink), timeout: options.timeout, window: window)
        }
        return RPCStartedCall { loop.execute { handler.value.abandon(id, RPCError(.cancelled, "cancelled by the caller")) } }
    }

    /// The REQUEST frame of a server-streaming call; its header asks for a flow-control window
    /// of `window` bytes when that is not 0.
    private func streamFrame(
        requestID id: UInt32, headerPrefix: [UInt8], path: String, options: CallOptions, window: Int,
        writeMessage: (inout ByteBuffer) -> Void
    ) -> ByteBuffer {
        var header = header(path, headerPrefix, options, authorization: addedAuthorization(options, path: path))
        if window > 0 {
            if header == nil { header = Retain_V1_CallHeader() }
            header!.windowBytes = UInt32(window)
        }
        var frame = ByteBufferAllocator().buffer(capacity: 128)
        RequestPayload.writeFrame(
            requestID: id, headerPrefix: headerPrefix, header: header, compressionThreshold: compressionThreshold,
            into: &frame, writeMessage)
        return frame
    }

    /// Starts a server-streaming call; with `consumption` the call asks for a flow-control
    /// window, and the server is granted more as the application consumes answers.
    private func stream(
        headerPrefix: [UInt8], path: String, options: CallOptions, consumption: StreamConsumption? = nil,
        writeMessage: @escaping @Sendable (inout ByteBuffer) -> Void
    ) -> AsyncThrowingStream<ByteBuffer, any Error> {
        let window = consumption == nil ? 0 : streamWindowBytes
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        Task {
            do {
                let ready = try await self.connection()
                let id = ready.nextRequestID.next()
                let request = self.streamFrame(
                    requestID: id, headerPrefix: headerPrefix, path: path, options: options, window: window,
                    writeMessage: writeMessage)
                let handler = ready.handler
                let loop = ready.channel.eventLoop
                consumption?.attach(handler: handler, loop: loop, requestID: id)
                continuation.onTermination = { termination in
                    if case .cancelled = termination {
                        loop.execute { handler.value.abandon(id, RPCError(.cancelled, "cancelled by the caller")) }
                    }
                }
                loop.execute {
                    handler.value.start(
                        request, requestID: id, pending: .streaming(continuation), timeout: options.timeout,
                        window: window)
                }
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }

    /// Closes every connection; calls in flight fail with UNAVAILABLE.
    public func close() async {
        for connection in connections { await connection.close() }
    }
}

/// The answers of a server-streaming call, decoded as they arrive.
///
/// Taking an answer grants the server room for more (PROTOCOL.md §15): a stream the application
/// stops iterating holds at most the client's window of answers, and the server stops sending
/// it without holding back the other calls of the connection.
public struct RPCResponseStream<Element: ProtoMessage>: AsyncSequence, Sendable {
    let base: AsyncThrowingStream<ByteBuffer, any Error>
    let consumption: StreamConsumption?

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
        let consumption: StreamConsumption?

        public mutating func next() async throws -> Element? {
            guard let payload = try await base.next() else { return nil }
            consumption?.consumed()
            return try payload.decodeProtoMessage(Element.self)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), consumption: consumption)
    }
}

/// Tells a stream's connection that the application took one of its answers, so that it grants
/// the server more credit.
final class StreamConsumption: Sendable {
    private struct Target {
        let handler: NIOLoopBound<ClientConnectionHandler>
        let loop: any EventLoop
        let requestID: UInt32
    }

    private let target = Mutex<Target?>(nil)

    /// The call's connection and request id, once it has been sent.
    func attach(handler: NIOLoopBound<ClientConnectionHandler>, loop: any EventLoop, requestID: UInt32) {
        target.withLock { $0 = Target(handler: handler, loop: loop, requestID: requestID) }
    }

    /// One answer was taken.
    func consumed() {
        guard let target = target.withLock({ $0 }) else { return }
        target.loop.execute { target.handler.value.consumed(target.requestID) }
    }
}
