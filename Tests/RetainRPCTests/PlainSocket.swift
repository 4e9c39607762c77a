import Foundation
import NIOCore
import RetainRPC
#if canImport(Glibc)
import Glibc
#endif

/// A bare POSIX TCP socket to 127.0.0.1, for clients that misbehave below what NIO lets one
/// write: one that trickles bytes, one that never reads, one of a flood. Writes never raise
/// SIGPIPE (`MSG_NOSIGNAL`).
final class PlainSocket: @unchecked Sendable {
    private var fd: Int32

    /// Connects (blocking) to `127.0.0.1:port`.
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PlainSocketError.failed("socket", errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw PlainSocketError.failed("connect", error)
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends all of `bytes`, blocking while the socket's buffer is full. Throws when the peer
    /// has closed or reset the connection.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                throw PlainSocketError.failed("send", errno)
            }
            offset += sent
        }
    }

    /// Sends what fits in the socket's buffer without blocking: the number of bytes taken, 0
    /// when the buffer is full. Throws when the peer has closed or reset the connection.
    func sendWithoutBlocking(_ bytes: ArraySlice<UInt8>) throws -> Int {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        if sent < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
            throw PlainSocketError.failed("send", errno)
        }
        return sent
    }

    /// Whether bytes (or the end of the stream) are waiting to be read.
    var isReadable: Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }

    /// Reads until the peer closes the connection or `timeout` passes. `closed` is true when
    /// the stream ended (orderly close or reset) within the time.
    func readUntilClose(timeout: Duration) -> (bytes: [UInt8], closed: Bool) {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while ContinuousClock.now < deadline {
            let left = deadline - ContinuousClock.now
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(
                &poller, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            if ready < 0, errno == EINTR { continue }
            if ready <= 0 { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count > 0 {
                bytes += chunk[0..<count]
            } else if count == 0 || errno != EINTR {
                return (bytes, true)
            }
        }
        return (bytes, false)
    }

    /// Closes the connection abruptly: the peer gets a TCP reset, not an orderly close.
    func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        guard fd >= 0 else { return }
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close(fd)
        fd = -1
    }

    /// Splits `bytes` into frames (at most 1 MiB of payload each).
    static func frames(in bytes: [UInt8]) throws -> [Frame] {
        var decoder = FrameDecoder(maximumPayloadSize: 1 << 20)
        var buffer = ByteBuffer(bytes: bytes)
        var frames: [Frame] = []
        while let frame = try decoder.decode(buffer: &buffer) { frames.append(frame) }
        return frames
    }
}

/// A POSIX call on a ``PlainSocket`` failed.
enum PlainSocketError: Error, CustomStringConvertible {
    case failed(String, Int32)

    var description: String {
        switch self {
        case .failed(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}
