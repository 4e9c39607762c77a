public import ArgumentParser
public import RetainRPC

/// The TLS flags of a process that calls other Retain services (the gateway's backends): the
/// CA to trust, and the certificate to present to services that require one (mutual TLS).
/// Without any of them, calls go out in plaintext.
public struct PeerTLSOptions: ParsableArguments, Sendable {
    /// Call peers over TLS, trusting the system's CAs unless `--peer-tls-ca-file` is given.
    @Flag(
        name: .customLong("peer-tls"),
        help: "Call other services over TLS (implied by the other --peer-tls flags).")
    public var enabled = false

    /// CA certificates (PEM) that peers' certificates must chain to.
    @Option(
        name: .customLong("peer-tls-ca-file"),
        help: "CA certificates, PEM, that other services' certificates must chain to (default: the system's).")
    public var caFile: String?

    /// The certificate (PEM) presented to peers that require one (mutual TLS).
    @Option(
        name: .customLong("peer-tls-cert-file"),
        help: "Client certificate, PEM, presented to services that require one (with --peer-tls-key-file).")
    public var certificateFile: String?

    /// The private key of `--peer-tls-cert-file` (PEM).
    @Option(name: .customLong("peer-tls-key-file"), help: "Private key of --peer-tls-cert-file, PEM.")
    public var keyFile: String?

    /// The name every peer's certificate must hold, when it is not the host called.
    @Option(
        name: .customLong("peer-tls-server-name"),
        help: "Name every peer's certificate must hold (default: the host called, name or IP address).")
    public var serverName: String?

    public init() {}

    public func validate() throws {
        guard (certificateFile == nil) == (keyFile == nil) else {
            throw ValidationError("--peer-tls-cert-file and --peer-tls-key-file go together")
        }
    }

    /// The TLS of outgoing calls, nil for plaintext; reads the files and builds the TLS
    /// context once, to be shared by every client.
    ///
    /// - Throws: ``TLSSetupError`` naming the file when one is missing, unreadable, not PEM, or
    ///   when the key does not match the certificate.
    public func load() throws(TLSSetupError) -> ClientTLS? {
        guard enabled || caFile != nil || certificateFile != nil || serverName != nil else { return nil }
        return try ClientTLS(caFile: caFile, certificateFile: certificateFile, keyFile: keyFile, serverHostname: serverName)
    }
}
