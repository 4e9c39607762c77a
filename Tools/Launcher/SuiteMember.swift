import Foundation

/// One process of the suite as `retain up` runs it.
struct SuiteMember: Sendable {
    /// Short name: "gateway", "profile", ...
    let name: String
    /// Executable product name, e.g. `retain-profile`.
    let executable: String
    /// Full name of the service it serves, e.g. `retain.v1.Profile` (the gateway's backends).
    let service: String
    /// RPC port.
    let port: Int
    /// HTTP operations port.
    let opsPort: Int
    /// Its data directory, or nil for a stateless process (the gateway).
    let dataDirectory: URL?
    /// Extra arguments (the gateway's topology).
    let extraArguments: [String]

    /// The command-line arguments for `host`.
    func arguments(host: String, logLevel: String) -> [String] {
        var arguments = ["--host", host, "--port", String(port), "--ops-port", String(opsPort), "--log-level", logLevel]
        if let dataDirectory { arguments += ["--data-dir", dataDirectory.path] }
        return arguments + extraArguments
    }
}
