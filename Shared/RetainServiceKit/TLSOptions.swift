public import ArgumentParser
public import RetainRPC

/// The TLS flags of every Retain listener (part of ``ServerOptions``): the server's
/// certificate and key, the CA of client certificates for mutual TLS, and whether the ops
/// endpoints use TLS too. Without `--tls-cert-file` the process serves plaintext.
public struct TLSOptions: ParsableArguments, Sendable {
    /// The server's certificate chain, leaf first (PEM); turns TLS on, with `--tls-key-file`.
    @Option(
        name: .customLong("tls-cert-file"),
        help: "Certificate chain of the server, PEM; serves TLS (with --tls-key-file).")
    public var certificateFile: String?

    /// The private key of the server's certificate (PEM).
    @Option(name: .customLong("tls-key-file"), help: "Private key of --tls-cert-file, PEM.")
    public var keyFile: String?

    /// CA certificates (PEM) that client certificates must chain to: clients without such a
    /// certificate are refused (mutual TLS).
    @Option(
        name: .customLong("tls-client-ca-file"),
        help: "CA certificates, PEM: require client certificates signed by them (mutual TLS).")
    public var clientCAFile: String?

    /// Serve the ops endpoints over TLS too, with the same certificate but never asking for a
    /// client certificate (probes and scrapers present none). Default: plain HTTP.
    @Flag(
        name: .customLong("ops-tls"),
        help: "Serve /metrics, /healthz and /readyz over TLS too (same certificate, no client certificate asked).")
    public var opsTLS = false

    public init() {}

    public func validate() throws {
        guard (certificateFile == nil) == (keyFile == nil) else {
            throw ValidationError("--tls-cert-file and --tls-key-file go together")
        }
        if certificateFile == nil, clientCAFile != nil {
            throw ValidationError("--tls-client-ca-file needs --tls-cert-file and --tls-key-file")
        }
        if certificateFile == nil, opsTLS {
            throw ValidationError("--ops-tls needs --tls-cert-file and --tls-key-file")
        }
    }

    /// The TLS of the RPC listener and of the ops endpoints, each nil when plaintext; reads
    /// the files and builds each TLS context once.
    ///
    /// - Throws: ``TLSSetupError`` naming the file when one is missing, unreadable, not PEM, or
    ///   when the key does not match the certificate: the process then refuses to start.
    public func load() throws(TLSSetupError) -> (server: ServerTLS?, ops: ServerTLS?) {
        guard let certificateFile, let keyFile else { return (nil, nil) }
        let server = try ServerTLS(certificateFile: certificateFile, keyFile: keyFile, clientCAFile: clientCAFile)
        guard opsTLS else { return (server, nil) }
        let ops = clientCAFile == nil ? server : try ServerTLS(certificateFile: certificateFile, keyFile: keyFile)
        return (server, ops)
    }
}
