import Foundation
import NIOCore
import RetainAuth
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
import RetainClock
#endif

/// The attacks of the hostile-clients issue, with real sockets against a real `retain-echo`
/// that checks credentials, while a normal client is served: the server's memory stays bounded,
/// the normal client's latency stays low, and new legitimate connections are accepted.
@Suite("hostile clients", .serialized)
struct HostileClientTests {
    static let secretText = ServiceSecret.generateText()
    static let memoryBound = 200 << 20

    static func token() throws -> String {
        "Bearer "
            + ServiceToken(
                issuer: "test", subject: "tester", scopes: .read("echo")!,
                expiresAtMs: WallClock.nowMs() + 600_000
            ).signed(with: try ServiceSecret(secretText))
    }

    static func client(_ port: Int) throws -> RPCClient {
        var configuration = RPCClient.Configuration()
        configuration.credentials = StaticCredentials(try token())
        return RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
    }

    /// A REQUEST frame for `method` whose call header carries `authorization`, with `message`.
    static func request(
        id: UInt32, method: String, authorization: String = "", message: [UInt8] = [],
        declaredMessageBytes: Int? = nil
    ) -> [UInt8] {
        let header = Retain_V1_CallHeader(method: method, authorization: authorization).serializedBytes()
        var buffer = ByteBuffer()
        let payloadLength = 4 + header.count + (declaredMessageBytes ?? message.count)
        buffer.writeFrameHeader(type: .request, flags: [], requestID: id, payloadLength: payloadLength)
        buffer.writeInteger(UInt32(header.count))
        buffer.writeBytes(header)
        buffer.writeBytes(message)
        return Array(buffer.readableBytesView)
    }

    /// Calls Echo every few milliseconds on its own connection until stopped; returns latencies.
    final class Record: Sendable {
        let latencies = Mutex<[Duration]>([])
        let failures = Mutex<[String]>([])
        let peak = Mutex(0)
    }

    final class NormalClient: Sendable {
        let record = Record()
        let task: Task<Void, Never>

        init(port: Int) throws {
            let client = try HostileClientTests.client(port)
            let record = record
            task = Task {
                while !Task.isCancelled {
                    let started = ContinuousClock.now
                    do {
                        _ = try await client.unary(Retain_V1_Echo.echo, .init(text: "normal"))
                        record.latencies.withLock { $0.append(ContinuousClock.now - started) }
                    } catch {
                        // The call stop() cancels is not a failure of the server.
                        if Task.isCancelled { break }
                        record.failures.withLock { $0.append("\(error)") }
                    }
                    try? await Task.sleep(for: .milliseconds(5))
                }
                await client.close()
            }
        }

        func stop() async -> (p99: Duration, calls: Int, failures: [String]) {
            task.cancel()
            await task.value
            let sorted = record.latencies.withLock { $0.sorted() }
            let p99 = sorted.isEmpty ? .seconds(999) : sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
            return (p99, sorted.count, record.failures.withLock { $0 })
        }
    }

    /// The highest resident size seen while `body` runs, sampled every 50 ms.
    static func peakResident(of server: ServerProcess, during body: () async throws -> Void) async rethrows -> Int {
        let record = Record()
        record.peak.withLock { $0 = server.residentBytes ?? 0 }
        let sampler = Task {
            while !Task.isCancelled {
                if let now = server.residentBytes { record.peak.withLock { $0 = max($0, now) } }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        try await body()
        sampler.cancel()
        _ = await sampler.value
        return record.peak.withLock { $0 }
    }

    @Test("200 connections without a credential, each sending most of a 4 MiB frame: refused before buffering")
    func largeFramesWithoutCredential() async throws {
        let server = try ServerProcess("retain-echo", arguments: ["--ops-port=-1"], serviceSecret: Self.secretText)
        defer { server.stop() }
        let normal = try NormalClient(port: server.port)
        let port = server.port
        let peak = try await Self.peakResident(of: server) {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try await onThread {
                            let socket = try PlainSocket(port: port)
                            // A REQUEST declaring 4 MiB - 1 with no credential in its header, then 1 MiB
                            // of its body and a stop: the server must not wait for the rest.
                            let frame = Self.request(id: 1, method: "retain.v1.Echo/Echo", declaredMessageBytes: (4 << 20) - 1 - 64)
                            _ = try? socket.sendWithoutBlocking(frame[...])
                            let body = [UInt8](repeating: UInt8(index & 0xFF), count: 1 << 20)
                            var offset = 0
                            let deadline = ContinuousClock.now + .seconds(3)
                            while offset < body.count, ContinuousClock.now < deadline {
                                guard let sent = try? socket.sendWithoutBlocking(body[offset...]) else { break }
                                offset += sent
                                if sent == 0 { usleep(5000) }
                            }
                            let (bytes, closed) = socket.readUntilClose(timeout: .seconds(10))
                            let goAway = try PlainSocket.frames(in: bytes).last
                            return closed && goAway?.type == .goAway
                        }
                    }
                }
                var refused = 0
                for try await wasRefused in group where wasRefused { refused += 1 }
                #expect(refused == 200, "only \(refused) of 200 anonymous large frames were refused with GOAWAY")
            }
            // The normal client goes on beside the attack's aftermath for a while.
            try await Task.sleep(for: .seconds(1))
        }
        let (p99, calls, failures) = await normal.stop()
        #expect(peak < Self.memoryBound, "server grew to \(peak >> 20) MiB")
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        #expect(calls > 20)
        #expect(p99 < .milliseconds(250), "normal client's p99 \(p99)")
        // A new legitimate connection is served.
        let fresh = try Self.client(server.port)
        #expect(try await fresh.unary(Retain_V1_Echo.echo, .init(text: "new")).text == "new")
        await fresh.close()
    }

    @Test("a large first call WITH a valid credential is admitted and served")
    func largeFirstCallWithCredential() async throws {
        let server = try ServerProcess("retain-echo", arguments: ["--ops-port=-1"], serviceSecret: Self.secretText)
        defer { server.stop() }
        let client = try Self.client(server.port)
        let text = String(repeating: "x", count: 512 << 10)
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: text)).text.count == text.count)
        await client.close()
    }

    @Test("4 authenticated clients pipelining 61 KB answers and never reading: memory stays bounded")
    func neverReadingClients() async throws {
        let server = try ServerProcess("retain-echo", arguments: ["--ops-port=-1"], serviceSecret: Self.secretText)
        defer { server.stop() }
        let normal = try NormalClient(port: server.port)
        let port = server.port
        let token = try Self.token()
        let peak = try await Self.peakResident(of: server) {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let socket = try PlainSocket(port: port)
                        var sent = 0
                        var pipeline: [UInt8] = []
                        for id in 1...2000 {
                            pipeline += Self.request(
                                id: UInt32(id), method: "retain.v1.Reflection/GetDescriptorSet",
                                authorization: token)
                        }
                        let deadline = ContinuousClock.now + .seconds(4)
                        // Send as long as the server takes requests; never read an answer.
                        while ContinuousClock.now < deadline {
                            if sent == pipeline.count { sent = 0 }
                            guard let taken = try? socket.sendWithoutBlocking(pipeline[sent...]) else { break }
                            sent += taken
                            if taken == 0 { try await Task.sleep(for: .milliseconds(10)) }
                        }
                        withExtendedLifetime(socket) {}
                        return sent
                    }
                }
                for try await _ in group {}
            }
        }
        let (p99, calls, failures) = await normal.stop()
        #expect(peak < Self.memoryBound, "server grew to \(peak >> 20) MiB")
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        #expect(calls > 20)
        #expect(p99 < .milliseconds(250), "normal client's p99 \(p99)")
    }

    @Test(
        "silent and PING-only connections without a credential are closed after the admission timeout, and make room when the server is full"
    )
    func idleUnauthenticatedConnections() async throws {
        let server = try ServerProcess(
            "retain-echo",
            arguments: [
                "--ops-port=-1", "--admission-timeout-ms", "1500", "--max-connections", "100",
            ], serviceSecret: Self.secretText)
        defer { server.stop() }
        // 150 sockets that never send a byte: more than the server takes.
        let port = server.port
        let silent = try await onThread { try (0..<150).map { _ in try PlainSocket(port: port) } }
        // A new legitimate connection is accepted at once: an unauthenticated one makes room.
        let started = ContinuousClock.now
        let client = try Self.client(server.port)
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "in")).text == "in")
        #expect(ContinuousClock.now - started < .seconds(1))
        // A connection that only PINGs is not admitted by it.
        let pinger = try PlainSocket(port: server.port)
        let pingTask = Task.detached {
            var ping = ByteBuffer()
            ping.writeFrame(Frame(type: .ping, requestID: 0, payload: ByteBuffer(bytes: [1, 2, 3, 4, 5, 6, 7, 8])))
            for _ in 0..<40 {
                guard (try? pinger.sendWithoutBlocking(Array(ping.readableBytesView)[...])) != nil else { return }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        let (bytes, closed) = await onThread { pinger.readUntilClose(timeout: .seconds(4)) }
        pingTask.cancel()
        #expect(closed, "a PING-only connection was kept open past the admission timeout")
        let goAway = try PlainSocket.frames(in: bytes).last { $0.type == .goAway }
        #expect(try goAway?.payload.decodeProtoMessage(Retain_V1_GoAway.self).code == RPCStatusCode.unauthenticated.rawValue)
        // The silent ones are all closed by now (evicted or timed out).
        let open = await onThread { silent.filter { !$0.readUntilClose(timeout: .milliseconds(20)).closed }.count }
        #expect(open == 0, "\(open) silent connections still open")
        // The admitted connection stays.
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "still")).text == "still")
        await client.close()
    }

    @Test("a connection that calls only Health, with a valid token, is admitted and outlives the admission timeout")
    func healthCheckerWithToken() async throws {
        let server = try ServerProcess(
            "retain-echo", arguments: ["--ops-port=-1", "--admission-timeout-ms", "500"],
            serviceSecret: Self.secretText)
        defer { server.stop() }
        let port = server.port
        let token = try Self.token()
        let (withToken, withoutToken) = try await onThread { () throws -> (Bool, Bool) in
            let admitted = try PlainSocket(port: port)
            let anonymous = try PlainSocket(port: port)
            let check = Retain_V1_HealthCheckRequest(service: "").serializedBytes()
            try admitted.send(Self.request(id: 1, method: "retain.v1.Health/Check", authorization: token, message: check))
            try anonymous.send(Self.request(id: 1, method: "retain.v1.Health/Check", message: check))
            // Past the admission timeout: only the anonymous one is closed.
            let anonymousClosed = anonymous.readUntilClose(timeout: .seconds(3)).closed
            let admittedClosed = admitted.readUntilClose(timeout: .milliseconds(300)).closed
            return (admittedClosed, anonymousClosed)
        }
        #expect(!withToken, "a Health-only connection with a valid token was closed")
        #expect(withoutToken, "a Health-only connection without a credential was kept")
    }

    @Test("connections from one address beyond its limit are refused; other clients keep theirs")
    func perAddressLimit() async throws {
        let server = try ServerProcess(
            "retain-echo", arguments: ["--ops-port=-1", "--max-connections-per-address", "5"],
            serviceSecret: Self.secretText)
        defer { server.stop() }
        let client = try Self.client(server.port)
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "a")).text == "a")
        let port = server.port
        let extra = try await onThread { try (0..<10).map { _ in try PlainSocket(port: port) } }
        try await Task.sleep(for: .milliseconds(300))
        let open = await onThread { extra.filter { !$0.readUntilClose(timeout: .milliseconds(50)).closed }.count }
        #expect(open <= 4, "\(open) more connections from one address were kept beside the client's (limit 5)")
        #expect(open >= 1)
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "b")).text == "b")
        await client.close()
    }
}

/// Runs blocking socket work on a thread of its own, never on the concurrency runtime's few
/// cooperative threads (blocking them stalls every other test of the process).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}
