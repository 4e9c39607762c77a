package import Foundation
package import GatewayCore
import RetainCluster
package import RetainProcess

/// What `retain up` runs, worked out from its flags before anything starts: each process's
/// command line, ports, data directory and readiness probe, in start order, and the gateway's
/// topology. Plain values, tested without starting a process.
///
/// Without replicas: one process per service (`<data>/<service>`), and the gateway with a
/// topology naming them. With `replicas = n`: a local etcd (``etcd``, data in `<data>/etcd`), then per
/// service one shard `<service>-0` of `n` members `<service>-0-a`, `-b`, ... (each with
/// `<data>/<member>`, the service's ports plus 10 per member: `7003`, `7013`, `7023`), and the
/// gateway following the shards' leaders through etcd, its topology naming the shards (so its
/// rings are fixed from the start).
package struct SuitePlan: Sendable {
    /// One backend service as the flags give it.
    package struct ServicePorts: Sendable, Hashable {
        /// Short name, e.g. `ledger`.
        package var name: String
        /// RPC port (of the first member, with replicas).
        package var port: Int
        /// Ops port (of the first member, with replicas).
        package var opsPort: Int

        package init(name: String, port: Int, opsPort: Int) {
            self.name = name
            self.port = port
            self.opsPort = opsPort
        }

        /// The full service name, e.g. `retain.v1.Ledger`.
        package var serviceName: String { "retain.v1.\(name.prefix(1).uppercased())\(name.dropFirst())" }
    }

    /// A replicated suite's settings.
    package struct Replication: Sendable, Hashable {
        /// Members per shard (`--replicas`).
        package var replicas: Int
        /// The cluster's name in etcd.
        package var cluster = ClusterKeys.defaultCluster
        /// etcd's client port.
        package var etcdPort = 2379
        /// etcd's peer port.
        package var etcdPeerPort = 2380
        /// The etcd executable; default ``EtcdProcess/defaultExecutable`` (`$RETAIN_ETCD`, or
        /// `etcd` on the PATH).
        package var etcdExecutable = EtcdProcess.defaultExecutable
        /// `--sync-replicas` for every member; nil leaves the services' default (1), or 0 for a
        /// shard of one member.
        package var syncReplicas: Int?
        /// `--lease-ttl` for every member, in seconds; nil leaves the services' default.
        package var leaseTTL: Int?

        package init(replicas: Int) {
            self.replicas = replicas
        }

        /// Members' suffixes: `a`, `b`, ... `z`.
        static let memberLetters = "abcdefghijklmnopqrstuvwxyz".map(String.init)

        /// The port step between members of one shard.
        package static let portStep = 10

        /// The shard of service `service` (short name): `ledger-0`.
        package static func shard(of service: String) -> String { "\(service)-0" }

        /// The name of member `index` of `shard`: `ledger-0-a`, `ledger-0-b`, ...
        package static func member(_ index: Int, of shard: String) -> String { "\(shard)-\(memberLetters[index])" }

        /// The flags that make a service process member `member` of `shard`, electing its
        /// leader in the etcd at `etcdEndpoint`; `advertise` nil lets it advertise the address
        /// it listens on.
        package func memberArguments(etcdEndpoint: String, shard: String, member: String, advertise: String?) -> [String] {
            var arguments = ["--etcd-endpoints", etcdEndpoint, "--cluster", cluster, "--shard", shard, "--member", member]
            if let advertise { arguments += ["--advertise", advertise] }
            // A shard of one has no replica to wait for.
            if let sync = syncReplicas ?? (replicas == 1 ? 0 : nil) {
                arguments += ["--sync-replicas", String(sync)]
            }
            if let leaseTTL { arguments += ["--lease-ttl", String(leaseTTL)] }
            return arguments
        }

        /// The flags that make the gateway follow the shards' leaders in the etcd at `etcdEndpoint`.
        package func gatewayArguments(etcdEndpoint: String) -> [String] {
            ["--etcd-endpoints", etcdEndpoint, "--cluster", cluster]
        }
    }

    /// The operations console (`retain-console`), started after the gateway it calls.
    package struct Console: Sendable, Hashable {
        /// Its HTTP port.
        package var port: Int
        /// Its ops port.
        package var opsPort: Int
        /// Its own flags besides `--gateway` (the API key file).
        package var arguments: [String]

        package init(port: Int, opsPort: Int, arguments: [String]) {
            self.port = port
            self.opsPort = opsPort
            self.arguments = arguments
        }
    }

    /// The Retain processes, in start order: the services, the gateway, then the console.
    package private(set) var members: [SuiteMember] = []
    /// The gateway's topology.
    package private(set) var topology = Topology(services: [])
    /// Executables that are not built, whose services do not run.
    package private(set) var skipped: [String] = []
    /// How to start the local etcd (before the others), when replicated.
    package private(set) var etcd: EtcdProcess.Configuration?
    /// etcd's client URL, when replicated.
    package private(set) var etcdEndpoint: String?

    /// Works out the suite.
    ///
    /// - Parameters:
    ///   - data: the suite's data directory.
    ///   - host: the address every process listens on.
    ///   - services: the backend services and their ports.
    ///   - gateway: the gateway's RPC and ops ports.
    ///   - gatewayArguments: the gateway's own extra flags (flow configuration, API keys).
    ///   - topologyFile: where the gateway's topology will be written.
    ///   - replication: nil for today's one process per service.
    ///   - console: the console's ports and flags; nil runs none.
    ///   - isBuilt: whether an executable product is built; a service that is not is skipped.
    package init(
        data: URL, host: String, services: [ServicePorts], gateway: (port: Int, opsPort: Int),
        gatewayArguments: [String], topologyFile: URL, replication: Replication?,
        console: Console? = nil, isBuilt: (String) -> Bool
    ) {
        let dialHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        var topologyServices: [Topology.Service] = []
        var members: [SuiteMember] = []
        var skipped: [String] = []
        var etcdEndpoint: String?
        if let replication {
            // EtcdProcess listens on loopback: the suite runs on one host.
            var etcd = EtcdProcess.Configuration()
            etcd.executable = replication.etcdExecutable
            etcd.dataDirectory = data.appendingPathComponent("etcd")
            etcd.clientPort = replication.etcdPort
            etcd.peerPort = replication.etcdPeerPort
            self.etcd = etcd
            etcdEndpoint = "http://127.0.0.1:\(replication.etcdPort)"
        }
        for service in services {
            let executable = "retain-\(service.name)"
            guard isBuilt(executable) else {
                skipped.append(executable)
                continue
            }
            guard let replication, let endpoint = etcdEndpoint else {
                members.append(
                    SuiteMember(
                        name: service.name, executable: executable, service: service.serviceName,
                        port: service.port, opsPort: service.opsPort,
                        dataDirectory: data.appendingPathComponent(service.name), extraArguments: []))
                topologyServices.append(
                    Topology.Service(
                        name: service.serviceName,
                        instances: [
                            Topology.Instance(id: "\(service.name)-0", host: dialHost, port: service.port)
                        ]))
                continue
            }
            let shard = Replication.shard(of: service.name)
            for index in 0..<replication.replicas {
                let member = Replication.member(index, of: shard)
                let port = service.port + index * Replication.portStep
                let arguments = replication.memberArguments(
                    etcdEndpoint: endpoint, shard: shard, member: member,
                    advertise: "\(Self.urlHost(dialHost)):\(port)")
                members.append(
                    SuiteMember(
                        name: member, executable: executable, service: service.serviceName, port: port,
                        opsPort: service.opsPort + index * Replication.portStep,
                        dataDirectory: data.appendingPathComponent(member), extraArguments: arguments,
                        readyPath: "/healthz"))
            }
            // The ring's instance is the shard; its address follows the leader (this one until
            // etcd names the shard).
            topologyServices.append(
                Topology.Service(
                    name: service.serviceName,
                    instances: [
                        Topology.Instance(id: shard, host: dialHost, port: service.port)
                    ]))
        }
        var arguments = ["--topology", topologyFile.path]
        if let replication, let etcdEndpoint {
            arguments += replication.gatewayArguments(etcdEndpoint: etcdEndpoint)
        }
        members.append(
            SuiteMember(
                name: "gateway", executable: "retain-gateway", service: "retain.v1.Gateway",
                port: gateway.port, opsPort: gateway.opsPort, dataDirectory: nil,
                extraArguments: arguments + gatewayArguments))
        if let console {
            if isBuilt("retain-console") {
                members.append(
                    SuiteMember(
                        name: "console", executable: "retain-console", service: "console", port: console.port,
                        opsPort: console.opsPort, dataDirectory: nil,
                        extraArguments: ["--gateway", "\(Self.urlHost(dialHost)):\(gateway.port)"] + console.arguments))
            } else {
                skipped.append("retain-console")
            }
        }
        self.members = members
        self.skipped = skipped
        self.etcdEndpoint = etcdEndpoint
        self.topology = Topology(services: topologyServices)
    }

    /// Every port the plan listens on (RPC, ops, etcd's client and peer ports), to check that
    /// none repeats.
    package var ports: [Int] {
        members.flatMap { [$0.port, $0.opsPort] } + [etcd?.clientPort, etcd?.peerPort].compactMap { $0 }
    }

    /// `host` as it goes in a URL: an IPv6 address in brackets.
    private static func urlHost(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
}
