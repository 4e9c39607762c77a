import ArgumentParser
import Logging
import RetainServiceKit

/// `retain-echo`: serves the Echo service, for runtime tests and the echo benchmark.
@main
struct EchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-echo", abstract: "Serve retain.v1.Echo, the RPC runtime's test service.")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        ServiceRunner.bootstrapLogging(level: options.logLevel)
        let logger = Logger(label: "retain.echo")
        try await ServiceRunner.run(name: "retain-echo", router: EchoService.router, options: options, logger: logger)
    }
}
