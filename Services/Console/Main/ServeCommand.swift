import ArgumentParser
import ConsoleCore
import ConsoleService
import Foundation
import Logging
import NIOCore
import RetainAuth
import RetainProto
import RetainRPC
import RetainServiceKit
import ServiceLifecycle
import UnixSignals

/// `retain-console serve`: serves the console over HTTP until SIGTERM or SIGINT. It holds no
/// state on disk and no secret of the suite: operators sign in with their API keys, which it
/// checks against the gateway's key file (`--api-keys-file`, or `RETAIN_API_KEYS`) and sends
/// to the gateway with each call.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the console over HTTP.")

    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "HTTP port of the console (0 picks a free one).") var port: Int = 8080
    @Option(name: .customLong("ops-port"), help: "Port of /metrics, /healthz and /readyz; -1 turns them off.") var opsPort: Int = 9005
    @Option(help: "The gateway, HOST:PORT.") var gateway: String = "127.0.0.1:7000"
    @Option(name: .customLong("api-keys-file"), help: "The gateway's API key file (docs/SECURITY.md): sign-in and scopes.")
    var apiKeysFile: String?
    @Option(name: .customLong("log-level"), help: "Log level.") var logLevel: Logger.Level = .info
    @Flag(name: .customLong("secure-cookies"), help: "Mark cookies Secure (behind an HTTPS proxy).") var secureCookies = false
    @Option(name: .customLong("overview-days"), help: "The Overview's default period in days (7 to 90).") var overviewDays: Int = 42

    func validate() throws {
        guard Self.address(gateway) != nil else { throw ValidationError("--gateway must be HOST:PORT") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (7...90).contains(overviewDays) else { throw ValidationError("--overview-days must be 7 to 90") }
    }

    /// `HOST:PORT` (an IPv6 host in brackets).
    static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        ServiceRunner.bootstrapLogging(level: logLevel)
        ServiceRunner.bootstrapMetrics()
        let logger = Logger(label: "retain.console")
        // Fail at start, not at the first sign-in, when the key file does not load.
        let keysFile = apiKeysFile
        let keys = try APIKeyStore.load(file: keysFile)
        if keys.entries.isEmpty {
            logger.warning("no API keys (--api-keys-file or RETAIN_API_KEYS): nobody can sign in")
        }
        let target = Self.address(gateway)!
        var clientConfiguration = RPCClient.Configuration()
        clientConfiguration.connectionsPerAddress = 2
        let client = RPCClient(host: target.host, port: target.port, configuration: clientConfiguration, logger: logger)
        var appConfiguration = ConsoleApp.Configuration()
        appConfiguration.secureCookies = secureCookies
        appConfiguration.overviewDays = overviewDays
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
        let app = ConsoleApp(
            client: client, sessions: SessionStore(nowMs: clock), keys: { try APIKeyStore.load(file: keysFile) }, nowMs: clock,
            configuration: appConfiguration, logger: logger)
        var serverConfiguration = ConsoleServer.Configuration()
        serverConfiguration.host = host
        serverConfiguration.port = port
        let server = try await ConsoleServer.bind(configuration: serverConfiguration, logger: logger) { await app.respond($0) }
        let ops = opsPort == -1 ? nil : try await OpsServer.start(configuration: .init(host: host, port: opsPort), logger: logger)
        let health = HealthStatus()
        health.set("", .serving)
        ops?.markReady(health)
        if let opsAddress = ops?.localAddress?.port { print("retain-console ops listening on \(host):\(opsAddress)") }
        let bound = server.localAddress?.port ?? port
        logger.info("console serving", metadata: ["address": "http://\(host):\(bound)/", "gateway": "\(gateway)"])
        // Ops first, so that graceful shutdown (reverse order) closes it last.
        let group = ServiceGroup(
            configuration: .init(
                services: (ops.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] } ?? [])
                    + [
                        .init(service: server), .init(service: ListeningAnnouncement(line: "retain-console listening on \(host):\(bound)")),
                    ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await client.close()
    }
}
