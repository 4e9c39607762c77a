import ArgumentParser
import GRPCCore
import GRPCNIOTransportHTTP2
#if canImport(Glibc)
import Glibc
#endif

/// `grpc-echo serve`: the Echo service on loopback, plaintext HTTP/2, gRPC's default settings.
/// Prints `grpc-echo listening on HOST:PORT` once bound (port 0 picks a free port).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve retain.v1.Echo/Echo over gRPC (HTTP/2, plaintext).")

    @Option(help: "Address to bind.") var host: String = "127.0.0.1"
    @Option(help: "Port to bind; 0 picks a free one.") var port: Int = 0

    func run() async throws {
        let server = GRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: host, port: port), transportSecurity: .plaintext),
            services: [RawEchoService()])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            guard let address = try await server.listeningAddress, let ipv4 = address.ipv4 else {
                throw ValidationError("the server did not report an IPv4 listening address")
            }
            print("grpc-echo listening on \(ipv4.host):\(ipv4.port)")
            fflush(nil)
        }
    }
}
