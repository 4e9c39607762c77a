public import ArgumentParser
public import RetainRPC

/// How the commands that connect to a server (`call`, `load`, `health`, `list`, `describe`)
/// reach it: plaintext by default, TLS with `--tls` or any `--tls-*-file`, and a client
/// certificate for servers that require one (mutual TLS).
public struct ConnectionOptions: ParsableArguments, Sendable {
    /// Connect over TLS, trusting the system's CAs unless `--tls-ca-file` is given.
    @Flag(name: .customLong("tls"), help: "Connect over TLS (implied by the --tls-* options).")
    public var enabled = false

    /// CA certificates (PEM) that the server's certificate must chain to.
    @Option(
        name: .customLong("tls-ca-file"),
        help: "CA certificates, PEM, that the server's certificate must chain to (default: the system's).")
    public var caFile: String?

    /// The client certificate (PEM), for servers that require one.
    @Option(
        name: .customLong("tls-cert-file"),
        help: "Client certificate, PEM, for servers that require one (with --tls-key-file).")
    public var certificateFile: String?

    /// The private key of `--tls-cert-file` (PEM).
    @Option(name: .customLong("tls-key-file"), help: "Private key of --tls-cert-file, PEM.")
    public var keyFile: String?

    /// The name the server's certificate must hold, when it is not the host connected to.
    @Option(
        name: .customLong("tls-server-name"),
        help: "Name the server's certificate must hold (default: the host given, name or IP address).")
    public var serverName: String?

    public init() {}

    public func validate() throws {
        guard (certificateFile == nil) == (keyFile == nil) else {
            throw ValidationError("--tls-cert-file and --tls-key-file go together")
        }
    }

    /// `base` with TLS set as the flags say; reads the files and builds the TLS context once,
    /// so call it once and share the result between clients.
    ///
    /// - Throws: ``TLSSetupError`` naming the file when one is missing, unreadable, not PEM, or
    ///   when the key does not match the certificate.
    public func clientConfiguration(
        _ base: RPCClient.Configuration = RPCClient.Configuration()
    )
        throws(TLSSetupError) -> RPCClient.Configuration
    {
        var configuration = base
        if enabled || caFile != nil || certificateFile != nil || serverName != nil {
            configuration.tls = try ClientTLS(
                caFile: caFile, certificateFile: certificateFile, keyFile: keyFile,
                serverHostname: serverName)
        }
        return configuration
    }
}
