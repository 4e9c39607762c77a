public import ArgumentParser
public import Logging

/// The flags every Retain executable shares: where to listen, where to keep data, how much to log.
public struct ServerOptions: ParsableArguments, Sendable {
    /// Address to listen on.
    @Option(help: "Address to listen on.")
    public var host: String = "127.0.0.1"

    /// Port to listen on; 0 picks a free one (printed on start).
    @Option(help: "Port to listen on; 0 picks a free one (printed on start).")
    public var port: Int = 0

    /// Port of the HTTP operations endpoints (`/metrics`, `/healthz`, `/readyz`) on the same
    /// host; 0 picks a free one (printed on start), a negative value turns them off.
    @Option(
        name: .customLong("ops-port"),
        help: "Port of the HTTP /metrics, /healthz and /readyz endpoints; 0 picks a free one, -1 turns them off.")
    public var opsPort: Int = 0

    /// Directory for the write-ahead log and snapshots.
    @Option(name: .customLong("data-dir"), help: "Directory for the write-ahead log and snapshots.")
    public var dataDirectory: String?

    /// Log level: trace, debug, info, notice, warning, error, critical.
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    public var logLevel: Logger.Level = .info

    /// Largest frame payload accepted, in bytes.
    @Option(name: .customLong("max-frame-bytes"), help: "Largest frame payload accepted, in bytes.")
    public var maximumFrameBytes: Int = 4 << 20

    /// Calls answered later that may run at once on one connection.
    @Option(
        name: .customLong("max-concurrent-calls"),
        help:
            "Calls answered later (asynchronous, waiting or streaming) that may run at once on one connection; one more gets RESOURCE_EXHAUSTED. Calls answered at once do not count."
    )
    public var maximumConcurrentCalls: Int = 1024

    /// Open connections the server accepts; more are closed at once.
    @Option(name: .customLong("max-connections"), help: "Open connections accepted; more are closed at once.")
    public var maximumConnections: Int = 4096

    /// Milliseconds a frame may take to arrive once it started; slower senders are cut off.
    @Option(name: .customLong("frame-timeout-ms"), help: "Milliseconds a frame may take to arrive; slower senders are cut off.")
    public var frameTimeoutMilliseconds: Int64 = 10_000

    /// Open connections from one source address.
    @Option(name: .customLong("max-connections-per-address"), help: "Open connections accepted from one source address.")
    public var maximumConnectionsPerAddress: Int = 1024

    /// Milliseconds a connection may take to present a valid credential (with checks on).
    @Option(
        name: .customLong("admission-timeout-ms"),
        help:
            "Milliseconds a new connection may take to present a valid credential in a call; PINGs and credential-less Health probes do not count."
    )
    public var admissionTimeoutMilliseconds: Int64 = 5_000

    /// Largest frame accepted before the connection presented a valid credential.
    @Option(
        name: .customLong("unauthenticated-frame-bytes"),
        help: "Largest frame accepted before a connection presented a valid credential, in bytes.")
    public var unauthenticatedFrameBytes: Int = 64 << 10

    /// Unread answers per connection before its next requests wait.
    @Option(
        name: .customLong("max-unsent-bytes"),
        help: "Answers a peer has not read, per connection, before its next requests wait, in bytes.")
    public var maximumUnsentBytes: Int = 64 << 10

    /// Incoming frame bytes all connections together may buffer.
    @Option(
        name: .customLong("memory-budget-bytes"),
        help: "Bytes of incoming frames all connections together may buffer; past it new calls get RESOURCE_EXHAUSTED.")
    public var memoryBudgetBytes: Int = 256 << 20

    /// Milliseconds without calls or frames after which a connection is closed.
    @Option(name: .customLong("idle-timeout-ms"), help: "Milliseconds without calls or frames before a connection is closed.")
    public var idleTimeoutMilliseconds: Int64 = 300_000

    /// File holding the secret that signs service tokens (else `RETAIN_SERVICE_SECRET`).
    @Option(
        name: .customLong("service-secret-file"),
        help: "File holding the shared secret that signs service tokens (default: $RETAIN_SERVICE_SECRET).")
    public var serviceSecretFile: String?

    /// How long tokens signed with the previous secret stay valid after the secret file changes.
    @Option(
        name: .customLong("secret-grace-ms"),
        help: "Milliseconds tokens signed with the previous secret stay valid after --service-secret-file changes.")
    public var secretGraceMilliseconds: Int64 = 300_000

    /// Serve without checking credentials: local development only (also `RETAIN_INSECURE_NO_AUTH=1`).
    @Flag(
        name: .customLong("insecure-no-auth"),
        help: "Accept calls without credentials (local development only; also RETAIN_INSECURE_NO_AUTH=1).")
    public var insecureNoAuth = false
    /// TLS of the listener and the ops endpoints (`--tls-cert-file`, `--tls-key-file`,
    /// `--tls-client-ca-file`, `--ops-tls`).
    @OptionGroup public var tls: TLSOptions

    public init() {}
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
