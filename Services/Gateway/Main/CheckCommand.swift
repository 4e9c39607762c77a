import ArgumentParser
import GatewayCore

/// `retain-gateway check`: validates a topology file (and a flow configuration) without serving,
/// for deployment pipelines.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate a topology file and, optionally, a flow configuration.")

    @Option(help: "Topology file to validate.")
    var topology: String

    @Option(help: "Flow configuration file to validate.")
    var config: String?

    func run() throws {
        do {
            let parsed = try Topology.load(path: topology)
            for service in parsed.services.values.sorted(by: { $0.name < $1.name }) {
                print("\(service.name): \(service.instances.map { "\($0.id)=\($0.address)" }.joined(separator: ", "))")
            }
            if let config {
                _ = try FlowConfiguration.load(path: config)
                print("\(config): valid flow configuration")
            }
            print("\(topology): valid topology (\(parsed.services.count) services)")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
