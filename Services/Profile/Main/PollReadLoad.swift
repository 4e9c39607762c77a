import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The read benchmark's load generator: one thread, plain non-blocking sockets and poll(2), one
/// call in flight per connection, the way redis-benchmark drives Redis. Every connection sends
/// a prepared REQUEST frame, waits for the answer frame, and sends the next, until `total`
/// answers arrived. Kept this lean so that the client, which shares the machine's cores with
/// the server, costs about what redis-benchmark costs.
enum PollReadLoad {
    /// Runs the load; returns the wall time in seconds, the latencies in ns and the failures.
    static func run(port: Int, connections: Int, total: Int, frames: [[UInt8]]) throws
        -> (seconds: Double, latencies: [UInt64], failures: Int) {
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        for _ in 0..<connections {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { throw BenchError("socket failed: errno \(errno)") }
            sockets.append(socket)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else { throw BenchError("connect failed: errno \(errno)") }
            var one: Int32 = 1
            setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
        }
        var polled = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var buffers = [[UInt8]](repeating: [UInt8](repeating: 0, count: 1 << 16), count: connections)
        var buffered = [Int](repeating: 0, count: connections)
        var sentAt = [UInt64](repeating: 0, count: connections)
        var latencies: [UInt64] = []
        latencies.reserveCapacity(total)
        var issued = 0
        var failures = 0

        func now() -> UInt64 {
            var time = timespec()
            clock_gettime(CLOCK_MONOTONIC, &time)
            return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
        }
        func send(_ connection: Int) throws {
            guard issued < total else { return }
            let frame = frames[issued % frames.count]
            issued += 1
            sentAt[connection] = now()
            let written = frame.withUnsafeBytes { write(sockets[connection], $0.baseAddress, $0.count) }
            guard written == frame.count else { throw BenchError("short write to the server: \(written), errno \(errno)") }
        }

        let started = now()
        for connection in 0..<connections { try send(connection) }
        while latencies.count < total {
            let ready = poll(&polled, nfds_t(polled.count), 5_000)
            guard ready > 0 else {
                if ready < 0, errno == EINTR { continue }
                throw BenchError("no answer from the server within 5 s")
            }
            for connection in 0..<connections where polled[connection].revents != 0 {
                polled[connection].revents = 0
                let count = buffers[connection].withUnsafeMutableBytes { raw in
                    read(sockets[connection], raw.baseAddress! + buffered[connection], raw.count - buffered[connection])
                }
                guard count > 0 else {
                    if count < 0, errno == EAGAIN { continue }
                    throw BenchError("the server closed a connection")
                }
                buffered[connection] += count
                // Whole frames: a 12-byte header (payload length first, type at byte 5).
                var consumed = 0
                while buffered[connection] - consumed >= 12 {
                    let (length, type) = buffers[connection].withUnsafeBytes { raw in
                        (Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: consumed, as: UInt32.self))),
                         raw[consumed + 5])
                    }
                    guard buffered[connection] - consumed >= 12 + length else { break }
                    if type == 3 { failures += 1 }  // STATUS: a unary call that failed
                    consumed += 12 + length
                    latencies.append(now() - sentAt[connection])
                    try send(connection)
                }
                if consumed > 0 {
                    let left = buffered[connection] - consumed
                    if left > 0 {
                        buffers[connection].withUnsafeMutableBytes { raw in
                            raw.baseAddress!.copyMemory(from: raw.baseAddress! + consumed, byteCount: left)
                        }
                    }
                    buffered[connection] = left
                }
            }
        }
        return (Double(now() - started) / 1e9, latencies, failures)
    }
}
