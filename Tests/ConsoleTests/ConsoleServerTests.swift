import ConsoleCore
import ConsoleService
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP server on loopback: requests answered in order on a keep-alive connection, a body
/// over the limit refused before it is buffered, and a graceful shutdown that ends idle
/// connections.
@Suite struct ConsoleServerTests {
    /// Sends `bytes` on a new connection to `port` and reads until the server closes it (the
    /// last request says `Connection: close`; a browser never half-closes, so neither does this).
    static func exchange(port: Int, _ bytes: [UInt8]) throws -> String {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { break }
            sent += written
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    @Test(.timeLimit(.minutes(1)))
    func keepAliveRequestsAreAnsweredInOrderAndLargeBodiesRefusedAndShutdownEndsIdleConnections() async throws {
        var configuration = ConsoleServer.Configuration()
        configuration.port = 0
        configuration.maximumBodyBytes = 1024
        let server = try await ConsoleServer.bind(configuration: configuration, logger: Logger(label: "test")) { request in
            .text("\(request.method) \(request.path) \(request.form["a"] ?? "-")\n", status: 200)
        }
        let port = try #require(server.localAddress?.port)
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }

            let form = "a=%E7%94%A8"
            let pipelined =
                "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /two HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)"
                + "GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let answers = try Self.exchange(port: port, Array(pipelined.utf8))
            let one = try #require(answers.range(of: "GET /one -"))
            let two = try #require(answers.range(of: "POST /two 用"))
            let three = try #require(answers.range(of: "GET /three -"))
            #expect(one.lowerBound < two.lowerBound && two.lowerBound < three.lowerBound)

            let large = "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + String(repeating: "x", count: 4096)
            let refused = try Self.exchange(port: port, Array(large.utf8))
            #expect(refused.hasPrefix("HTTP/1.1 413"))

            // An idle keep-alive connection, as a browser leaves one, must not hold up the shutdown.
            let idle = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(idle) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(idle, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(connected == 0)
            try await Task.sleep(for: .milliseconds(100))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
