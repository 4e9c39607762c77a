import NIOCore
import RetainAuth
import RetainLauncher
import RetainRPC
import Synchronization

/// The soak's clients: one to the gateway with the admin API key, one straight to each service
/// with service tokens minted from the secret. ``cut()`` drops them all at once, failing the
/// calls in flight, and puts fresh ones in their place.
final class SoakConnections: Sendable {
    /// The clients in use.
    struct Clients: Sendable {
        let gateway: RPCClient
        let services: [String: RPCClient]

        /// Every client.
        var all: [RPCClient] { [gateway] + Array(services.values) }
    }

    private let suite: LocalSuite
    private let secret: ServiceSecret
    private let current: Mutex<Clients>

    /// Clients to `suite`, which must be secured (it has a service secret and an admin key).
    init(suite: LocalSuite) throws {
        precondition(suite.serviceSecret != nil && suite.adminAuthorization != nil, "the soak needs a secured suite")
        self.suite = suite
        let secret = try ServiceSecret(suite.serviceSecret ?? "")
        self.secret = secret
        current = Mutex(Self.makeClients(suite: suite, secret: secret))
    }

    /// The client to the gateway.
    var gateway: RPCClient { current.withLock { $0.gateway } }

    /// The client straight to service `name` ("profile", ...).
    func service(_ name: String) -> RPCClient { current.withLock { $0.services[name]! } }

    /// Closes every client abruptly (calls in flight fail with UNAVAILABLE) after putting new
    /// ones in their place; returns how many connections were cut.
    @discardableResult
    func cut() async -> Int {
        let old = current.withLock { clients in
            let old = clients
            clients = Self.makeClients(suite: suite, secret: secret)
            return old
        }
        for client in old.all { await client.close() }
        return old.all.count
    }

    /// Closes every client.
    func close() async {
        for client in current.withLock({ $0.all }) { await client.close() }
    }

    private static func makeClients(suite: LocalSuite, secret: ServiceSecret) -> Clients {
        var gatewayConfiguration = RPCClient.Configuration()
        gatewayConfiguration.credentials = suite.adminAuthorization.map { StaticCredentials($0) }
        gatewayConfiguration.connectTimeout = .seconds(1)
        let minter = TokenMinter(secret: secret, configuration: .init(issuer: "soak"))
        var services: [String: RPCClient] = [:]
        for service in LocalSuite.Service.allCases {
            var configuration = RPCClient.Configuration()
            configuration.credentials = minter
            configuration.connectTimeout = .seconds(1)
            services[service.rawValue] = RPCClient(host: "127.0.0.1", port: suite.port(of: service), configuration: configuration)
        }
        return Clients(
            gateway: RPCClient(host: "127.0.0.1", port: suite.gatewayPort, configuration: gatewayConfiguration),
            services: services)
    }
}
