public import Foundation

/// The backend instances the gateway routes to, per service, read from a JSON file:
///
/// ```json
/// {
///   "virtual_nodes": 128,
///   "services": {
///     "retain.v1.Profile": ["127.0.0.1:7001", "127.0.0.1:7011"],
///     "retain.v1.Growth": {
///       "instances": [{"id": "growth-a", "address": "10.0.0.5:7002"}],
///       "idempotent_methods": ["GetGrowthView", "GetLeaderboard"],
///       "user_failover": false
///     }
///   }
/// }
/// ```
///
/// A service is named in full (`retain.v1.Profile`) or by its short name (`Profile`). An
/// instance is an address `host:port` (its id is then the address) or an object with a stable
/// `id`, which the hash ring is built from, so an instance may move without moving its users.
/// `services` may be empty: the gateway then serves only its own methods (`retain up` with no
/// service built yet). `idempotent_methods` lists methods the gateway may retry after a broken connection even
/// without an idempotency key (reads). `user_failover: true` lets user-keyed calls move to the
/// next instance on the ring while the owner is unhealthy; it is off by default because Retain
/// services keep each user's state on the owner only.
public struct Topology: Sendable, Hashable {
    /// One backend instance.
    public struct Instance: Sendable, Hashable {
        /// Stable id; the hash ring is built from it.
        public var id: String
        /// Host name or address.
        public var host: String
        /// TCP port.
        public var port: Int

        public init(id: String, host: String, port: Int) {
            self.id = id
            self.host = host
            self.port = port
        }

        /// `host:port`, with brackets around an IPv6 address.
        public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The instances of one service and how to route to them.
    public struct Service: Sendable, Hashable {
        /// Full name, e.g. `retain.v1.Profile`.
        public var name: String
        /// Instances, in file order.
        public var instances: [Instance]
        /// Method names (e.g. `GetProfile`) that are safe to retry without an idempotency key.
        public var idempotentMethods: Set<String>
        /// Whether user-keyed calls may move to the next instance while the owner is unhealthy.
        public var userFailover: Bool

        public init(name: String, instances: [Instance], idempotentMethods: Set<String> = [], userFailover: Bool = false) {
            self.name = name
            self.instances = instances
            self.idempotentMethods = idempotentMethods
            self.userFailover = userFailover
        }
    }

    /// Services by full name.
    public var services: [String: Service]
    /// Points per instance on each service's hash ring. Default 128.
    public var virtualNodes: Int

    public init(services: [Service], virtualNodes: Int = 128) {
        self.services = Dictionary(services.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.virtualNodes = virtualNodes
    }

    /// Reads and validates the topology file at `path`.
    public static func load(path: String) throws(TopologyError) -> Topology {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TopologyError(path: "", "cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(data)
    }

    /// Parses and validates a topology document.
    public static func parse(_ data: Data) throws(TopologyError) -> Topology {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw TopologyError(path: "", "not valid JSON: \(error.localizedDescription)")
        }
        guard let object = root as? [String: Any] else { throw TopologyError(path: "", "must be a JSON object") }
        try checkKeys(object, allowed: ["services", "virtual_nodes"], path: "")
        var virtualNodes = 128
        if let value = object["virtual_nodes"] {
            guard let number = value as? Int, (1...4096).contains(number) else {
                throw TopologyError(path: "virtual_nodes", "must be an integer from 1 to 4096")
            }
            virtualNodes = number
        }
        guard let services = object["services"] as? [String: Any] else {
            throw TopologyError(path: "services", "must be an object of service name -> instances")
        }
        var parsed: [String: Service] = [:]
        for key in services.keys.sorted() {
            let service = try parseService(name: key, services[key]!)
            guard parsed[service.name] == nil else {
                throw TopologyError(path: "services.\(key)", "names \(service.name) a second time")
            }
            parsed[service.name] = service
        }
        var topology = Topology(services: [], virtualNodes: virtualNodes)
        topology.services = parsed
        return topology
    }

    /// The topology as JSON (the object form, with ids), as `parse` reads it back.
    public func encoded() -> Data {
        var services: [String: Any] = [:]
        for service in self.services.values {
            var object: [String: Any] = [
                "instances": service.instances.map { ["id": $0.id, "address": $0.address] }
            ]
            if !service.idempotentMethods.isEmpty { object["idempotent_methods"] = service.idempotentMethods.sorted() }
            if service.userFailover { object["user_failover"] = true }
            services[service.name] = object
        }
        let root: [String: Any] = ["virtual_nodes": virtualNodes, "services": services]
        return (try? JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    }

    // MARK: Parsing pieces

    private static func parseService(name key: String, _ value: Any) throws(TopologyError) -> Service {
        let path = "services.\(key)"
        let name = key.contains(".") ? key : "retain.v1.\(key)"
        guard name.hasPrefix("retain.v1."), isServiceName(String(name.dropFirst("retain.v1.".count))) else {
            throw TopologyError(path: path, "is not a service name like retain.v1.Profile or Profile")
        }
        guard name != "retain.v1.Gateway" else {
            throw TopologyError(path: path, "the gateway does not route to itself")
        }
        var instancesValue: Any = value
        var idempotent: Set<String> = []
        var userFailover = false
        if let object = value as? [String: Any] {
            try checkKeys(object, allowed: ["instances", "idempotent_methods", "user_failover"], path: path)
            guard let instances = object["instances"] else { throw TopologyError(path: "\(path).instances", "is missing") }
            instancesValue = instances
            if let methods = object["idempotent_methods"] {
                guard let list = methods as? [String] else {
                    throw TopologyError(path: "\(path).idempotent_methods", "must be a list of method names")
                }
                for (index, method) in list.enumerated() where !isServiceName(method) {
                    throw TopologyError(path: "\(path).idempotent_methods[\(index)]", "'\(method)' is not a method name like GetProfile")
                }
                idempotent = Set(list)
            }
            if let flag = object["user_failover"] {
                guard let bool = flag as? Bool else {
                    throw TopologyError(path: "\(path).user_failover", "must be true or false")
                }
                userFailover = bool
            }
        }
        guard let list = instancesValue as? [Any] else {
            throw TopologyError(path: "\(path).instances", "must be a list of \"host:port\" or {\"id\", \"address\"}")
        }
        guard !list.isEmpty else { throw TopologyError(path: "\(path).instances", "lists no instance") }
        var instances: [Instance] = []
        for (index, entry) in list.enumerated() {
            let entryPath = "\(path).instances[\(index)]"
            var id: String?
            let address: String
            if let text = entry as? String {
                address = text
            } else if let object = entry as? [String: Any] {
                try checkKeys(object, allowed: ["id", "address"], path: entryPath)
                guard let text = object["address"] as? String else {
                    throw TopologyError(path: "\(entryPath).address", "must be a \"host:port\" string")
                }
                address = text
                if let value = object["id"] {
                    guard let text = value as? String, !text.isEmpty, text.utf8.count <= 128 else {
                        throw TopologyError(path: "\(entryPath).id", "must be a string of 1 to 128 bytes")
                    }
                    id = text
                }
            } else {
                throw TopologyError(path: entryPath, "must be \"host:port\" or {\"id\": ..., \"address\": \"host:port\"}")
            }
            let (host, port) = try parseAddress(address, path: entryPath)
            let instance = Instance(id: id ?? address, host: host, port: port)
            if let earlier = instances.firstIndex(where: { $0.id == instance.id }) {
                throw TopologyError(path: entryPath, "repeats the id '\(instance.id)' of instances[\(earlier)]")
            }
            if let earlier = instances.firstIndex(where: { $0.address == instance.address }) {
                throw TopologyError(path: entryPath, "repeats the address \(instance.address) of instances[\(earlier)]")
            }
            instances.append(instance)
        }
        guard name != oneWriterService || instances.count == 1 else {
            throw TopologyError(
                path: "\(path).instances",
                "lists \(instances.count) instances, but the ledger is one writer by design (budgets and referrals span users): run one instance, made highly available by replication (docs/CLUSTER.md)"
            )
        }
        return Service(name: name, instances: instances, idempotentMethods: idempotent, userFailover: userFailover)
    }

    /// The service that is never sharded: the ledger, one replicated state machine.
    public static let oneWriterService = "retain.v1.Ledger"

    /// Splits `host:port` (or `[v6]:port`) and checks both parts.
    static func parseAddress(_ text: String, path: String) throws(TopologyError) -> (String, Int) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw TopologyError(path: path, "'\(text)' is not [ipv6]:port")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw TopologyError(path: path, "'\(text)' has no port (expected host:port)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace }) else {
            throw TopologyError(path: path, "'\(text)' has no host (expected host:port)")
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw TopologyError(path: path, "'\(text)' has no valid port (1 to 65535)")
        }
        return (String(host), port)
    }

    private static func checkKeys(_ object: [String: Any], allowed: Set<String>, path: String) throws(TopologyError) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            throw TopologyError(
                path: path.isEmpty ? key : "\(path).\(key)",
                "is not a known key (expected one of \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    /// An UpperCamelCase identifier, as proto service and method names are.
    private static func isServiceName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("A"..."Z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}

/// Why a topology file was refused: the path of the bad entry and what is wrong with it.
public struct TopologyError: Error, Hashable, CustomStringConvertible, Sendable {
    /// Where in the document, e.g. `services.retain.v1.Profile.instances[1]`; "" for the whole.
    public var path: String
    /// What is wrong.
    public var message: String

    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? "topology: \(message)" : "topology: \(path): \(message)" }
}
