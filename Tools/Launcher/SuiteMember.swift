package import Foundation

/// One process of the suite as `retain up` runs it.
package struct SuiteMember: Sendable, Hashable {
    /// Short name: "gateway", "profile", "ledger-0-b", ...
    package let name: String
    /// Executable product name, e.g. `retain-profile`.
    package let executable: String
    /// Full name of the service it serves, e.g. `retain.v1.Profile` (the gateway's backends).
    package let service: String
    /// RPC port.
    package let port: Int
    /// HTTP operations port.
    package let opsPort: Int
    /// Its data directory, or nil for a stateless process (the gateway).
    package let dataDirectory: URL?
    /// Extra arguments (the gateway's topology, a replica's shard and member).
    package let extraArguments: [String]
    /// The ops path that answers 200 once the process is ready: `/readyz`; `/healthz` for a
    /// member of a replicated shard (a replica is alive but never "ready": only the leader
    /// takes calls).
    package let readyPath: String

    package init(
        name: String, executable: String, service: String, port: Int, opsPort: Int, dataDirectory: URL?,
        extraArguments: [String], readyPath: String = "/readyz"
    ) {
        self.name = name
        self.executable = executable
        self.service = service
        self.port = port
        self.opsPort = opsPort
        self.dataDirectory = dataDirectory
        self.extraArguments = extraArguments
        self.readyPath = readyPath
    }

    /// The command-line arguments for `host`.
    package func arguments(host: String, logLevel: String) -> [String] {
        var arguments = ["--host", host, "--port", String(port), "--ops-port", String(opsPort), "--log-level", logLevel]
        if let dataDirectory { arguments += ["--data-dir", dataDirectory.path] }
        return arguments + extraArguments
    }
}
