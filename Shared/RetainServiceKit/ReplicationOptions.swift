public import ArgumentParser
public import RetainReplication
public import RetainRPC

/// Flags that make a service process one copy of a replicated shard (docs/REPLICATION.md).
public struct ReplicationOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("etcd-endpoints"),
        help: "etcd client URLs, comma-separated (e.g. http://127.0.0.1:2379): run as one copy of a replicated shard.")
    public var etcdEndpoints: String?

    @Option(help: "Cluster name: every etcd key lives under /retain/<cluster>/.")
    public var cluster: String = "retain"

    @Option(help: "Shard name (default: the service's short name and -0, e.g. ledger-0).")
    public var shard: String?

    @Option(help: "This process's name, unique in the shard (default: <shard>-<port>).")
    public var member: String?

    @Option(help: "HOST:PORT the shard's other processes and the gateway reach this process at (default: the listen address).")
    public var advertise: String?

    @Option(name: .customLong("lease-ttl"), help: "Leader lease in etcd, in seconds; failover takes about this long.")
    public var leaseTTL: Int = 2

    @Option(
        name: .customLong("sync-replicas"),
        help: "Replicas that must hold a record durably before it is acknowledged (0: asynchronous, may lose writes on failover).")
    public var syncReplicas: Int = 1

    @Option(
        name: .customLong("replication-window-bytes"),
        help: "Recent log records the leader keeps in memory for its replicas, in bytes; older ones are read from the log files.")
    public var windowBytes: Int = 64 << 20

    /// How the shard's members call each other (a replica its leader: records, snapshots,
    /// acknowledgements): over TLS with these flags, in plaintext without them.
    @OptionGroup(title: "TLS between the shard's members") public var peerTLS: PeerTLSOptions

    public init() {}

    /// The TLS a member calls its leader with, nil for plaintext. A member serving TLS
    /// (`serving`) must call its peers over TLS, and one requiring client certificates
    /// (`requiresClientCertificate`) must present one: refused at start otherwise, since its
    /// replicas could never follow it.
    public func memberTLS(serving: Bool, requiresClientCertificate: Bool) throws -> ClientTLS? {
        let tls = try peerTLS.load()
        guard enabled else { return tls }
        if serving, tls == nil {
            throw ValidationError(
                "a replicated shard whose members serve TLS calls its leader over TLS: give --peer-tls-ca-file (the CA of the members' certificates) or --peer-tls (the system's CAs)"
            )
        }
        if requiresClientCertificate, peerTLS.certificateFile == nil {
            throw ValidationError(
                "the shard's members require client certificates (--tls-client-ca-file): give each member --peer-tls-cert-file and --peer-tls-key-file to present to its leader"
            )
        }
        return tls
    }

    /// Whether replication is on.
    public var enabled: Bool { etcdEndpoints != nil }

    /// The configuration for a process serving `service` (full name, e.g. `retain.v1.Ledger`).
    public func configuration(service: String, host: String, port: Int, dataDirectory: String?) throws -> ReplicationConfiguration? {
        guard let etcdEndpoints else { return nil }
        guard let dataDirectory else {
            throw ValidationError("--etcd-endpoints needs --data-dir: each copy of a shard keeps its own log")
        }
        guard leaseTTL >= 1, syncReplicas >= 0 else {
            throw ValidationError("--lease-ttl must be at least 1 second and --sync-replicas at least 0")
        }
        let short = service.split(separator: ".").last.map { $0.lowercased() } ?? service
        let shard = shard ?? "\(short)-0"
        var configuration = ReplicationConfiguration(
            etcdEndpoints: etcdEndpoints.split(separator: ",").map(String.init), cluster: cluster, shard: shard,
            member: member ?? "\(shard)-\(port)", advertise: advertise ?? "\(host):\(port)", service: service,
            dataDirectory: dataDirectory)
        configuration.leaseTTLSeconds = leaseTTL
        configuration.syncReplicas = syncReplicas
        configuration.windowBytes = max(windowBytes, 0)
        return configuration
    }
}
