import Foundation
import GRPCCore
import GRPCNIOTransportCore
import GRPCNIOTransportHTTP2
import NIOPosix
public import Logging
import RetainProto
public import RetainRPC
public import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The gateway's gRPC front door: a second listener that speaks standard gRPC over HTTP/2
/// (grpc-swift 2) and hands every call, in process, to the gateway's native server
/// (``RetainRPC/InProcessCalls``), one to one: the handler a native call of the same method
/// would run (the forwarder, the flows, the gateway's own methods) runs after the same checks
/// (credential, scopes, rate limit), with the request and answer bytes as they are, the
/// credential, deadline, metadata and cancellation carried over, and the native status (code,
/// message, details) sent back. No connection to the native port, no native frame on the way.
/// It also answers gRPC server reflection from the Retain descriptor set.
///
/// Started with the gateway's other services, once the native server is up
/// (``serve(through:)``). Prints `retain-gateway grpc listening on HOST:PORT`.
public final class GRPCFrontDoor: Service {
    /// Where the front door listens and how.
    public struct Configuration: Sendable {
        /// Address to bind. Default 127.0.0.1.
        public var host = "127.0.0.1"
        /// Port to bind; 0 picks a free one. Default 0.
        public var port = 0
        /// The server's certificate and key (PEM), and the CA of the client certificates it
        /// requires (mutual TLS) when set; nil serves plaintext. Default nil.
        public var tls: TLS?
        /// Largest request message accepted (the native port's maximum frame). Default 4 MiB.
        public var maximumMessageBytes = 4 << 20
        /// Calls one HTTP/2 connection may run at once (`SETTINGS_MAX_CONCURRENT_STREAMS`). A
        /// client that opens more before it has read the server's settings loses its
        /// connection, so this is set well above what clients burst. Default 1024 (the native
        /// port's `--max-concurrent-calls`).
        public var maximumConcurrentStreams = 1024

        public init() {}
    }

    /// The certificate files of a TLS listener, the same as the native port's.
    public struct TLS: Sendable {
        public var certificateFile: String
        public var keyFile: String
        /// Clients must present a certificate from this CA (mutual TLS) when set.
        public var clientCAFile: String?

        public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.clientCAFile = clientCAFile
        }
    }

    let configuration: Configuration
    let logger: Logger
    /// The listener's certificates (with ALPN `h2`), read at start and on ``reloadTLS()``; nil
    /// for plaintext.
    let serverTLS: ServerTLS?
    /// The services reflection lists, as the gateway routes them now.
    let services: @Sendable () -> [String]
    private let nativeCalls = Mutex<InProcessCalls?>(nil)

    /// - Parameter services: the services the gateway serves or routes now, for reflection.
    /// - Throws: ``TLSSetupError`` naming a certificate file that is missing or not PEM, or a key
    ///   that does not match.
    public init(configuration: Configuration, logger: Logger, services: @escaping @Sendable () -> [String]) throws {
        self.configuration = configuration
        self.logger = logger
        self.services = services
        serverTLS = try configuration.tls.map {
            try ServerTLS(
                certificateFile: $0.certificateFile, keyFile: $0.keyFile, clientCAFile: $0.clientCAFile, applicationProtocols: ["h2"])
        }
    }

    /// The certificate files whose change should reload the listener's TLS (empty: plaintext).
    public var watchedTLSFiles: [String] { serverTLS?.watchedFiles ?? [] }

    /// Reads the certificate files again: new connections use them, open ones keep theirs.
    /// Throws (keeping the certificates in force) when a file is missing, not PEM, or the key
    /// does not match.
    public func reloadTLS() throws {
        try serverTLS?.reload()
    }

    /// Tells the front door the gateway's native server, whose methods serve its calls.
    public func serve(through calls: InProcessCalls) {
        nativeCalls.withLock { $0 = calls }
    }

    public func run() async throws {
        guard let native = nativeCalls.withLock({ $0 }) else {
            throw RPCSetupError("the gRPC front door started before the native server")
        }
        let index = try DescriptorIndex(descriptorSet: Self.descriptorSet)
        let state = FrontDoorState()
        let (maximumMessageBytes, maximumStreams) = (configuration.maximumMessageBytes, configuration.maximumConcurrentStreams)
        var transportConfiguration = HTTP2ServerTransport.Custom<FrontDoorListener>.Config.defaults
        transportConfiguration.rpc.maxRequestPayloadSize = maximumMessageBytes
        transportConfiguration.http2.maxConcurrentStreams = maximumStreams
        let transport = HTTP2ServerTransport.Custom(
            listenerFactory: FrontDoorListener(
                host: configuration.host, port: configuration.port, tls: serverTLS, logger: logger,
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton),
            config: transportConfiguration)
        let server = GRPCServer(
            transport: transport,
            services: [PassThroughService(native: native, state: state), ServerReflectionService(index: index, services: services)])
        try await withGracefulShutdownHandler {
            do {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask {
                        do {
                            try await server.serve()
                        } catch  where state.isDraining {
                            // Asked to stop before it served: nothing to drain.
                        }
                    }
                    group.addTask {
                        while !state.isDraining { try await Task.sleep(for: .milliseconds(50)) }
                        // Asked to stop while the listener was still being bound: no call was
                        // served yet, and the transport may never report its address; stop now.
                        if !state.isListening { throw CancellationError() }
                    }
                    // Announced apart from the group: waiting for the address does not end with
                    // the task, and must not hold up a stop that comes before the listener is up.
                    let logger = logger
                    let tls = configuration.tls != nil
                    Task {
                        guard let address = await transport.listeningAddress?.ipv4 else {
                            if !state.isDraining { logger.error("the gRPC front door did not report an IPv4 listening address") }
                            return
                        }
                        state.markListening()
                        // A shutdown that came while the listener was being bound reached a
                        // transport that was not listening yet: tell it again now that it is.
                        if state.isDraining { transport.beginGracefulShutdown() }
                        print("retain-gateway grpc listening on \(address.host):\(address.port)")
                        fflush(nil)
                        logger.info(
                            "gRPC front door listening",
                            metadata: ["address": "\(address.host):\(address.port)", "tls": "\(tls)"])
                    }
                }
            } catch is CancellationError where state.isDraining {
                logger.notice("gRPC front door stopped before it listened")
            }
        } onGracefulShutdown: {
            state.beginDraining()
            server.beginGracefulShutdown()
        }
    }

    /// The serialized `google.protobuf.FileDescriptorSet` of every Retain `.proto` file.
    static var descriptorSet: [UInt8] {
        Array(Data(base64Encoded: retainDescriptorSetBase64.filter { !$0.isWhitespace }) ?? Data())
    }
}

/// The front door could not start.
struct RPCSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
