import ArgumentParser
import GatewayCore
import RetainServiceKit
import RetainFlowRules

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
        // The same loader and the same refusal (`--topology PATH: ...`, exit 64) as `serve`.
        let parsed = try ConfigurationFile.load(
            topology, option: "--topology", defaults: { Topology(services: []) }, parse: { try Topology.load(path: $0) })
        for service in parsed.services.values.sorted(by: { $0.name < $1.name }) {
            print("\(service.name): \(service.instances.map { "\($0.id)=\($0.address)" }.joined(separator: ", "))")
        }
        if let config {
            _ = try ConfigurationFile.load(
                config, defaults: { FlowConfiguration.standard }, parse: { try FlowConfiguration.load(path: $0) })
            print("\(config): valid flow configuration")
        }
        print("\(topology): valid topology (\(parsed.services.count) services)")
    }
}
