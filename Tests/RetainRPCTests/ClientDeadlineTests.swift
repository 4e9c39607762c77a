import NIOCore
import NIOPosix
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// The client's deadlines on one connection share one timer, armed at the earliest deadline:
/// each call still ends at its own deadline, whatever order the calls were started in, calls
/// answered in time are not touched, and the timer arms itself again after it fires.
@Suite("RPC client: deadlines of the calls on one connection", .serialized)
struct ClientDeadlineTests {
    /// Sleeps `milliseconds` on the server with `timeout`; returns how the call ended and when.
    static func sleep(
        _ client: RPCClient, milliseconds: Int, timeout: Duration, from start: ContinuousClock.Instant
    ) async -> (code: RPCStatusCode, after: Duration) {
        do {
            _ = try await client.unary(
                Retain_V1_Echo.sleep, .init(durationMs: UInt32(milliseconds)), options: .init(timeout: timeout))
            return (.ok, ContinuousClock.now - start)
        } catch let error as RPCError {
            return (error.code, ContinuousClock.now - start)
        } catch {
            return (.unknown, ContinuousClock.now - start)
        }
    }

    /// A TCP server that accepts and reads but never answers: only the client's own timer can
    /// end a call to it.
    static func silentServer() async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { _ in MultiThreadedEventLoopGroup.singleton.next().makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    @Test("to a server that never answers, a later call with an earlier deadline ends first, each at its own deadline")
    func deadlinesInAnyOrder() async throws {
        let server = try await Self.silentServer()
        let client = RPCClient(host: "127.0.0.1", port: server.localAddress!.port!)
        // Connected by a first call that the deadline ends.
        let first = await Self.sleep(client, milliseconds: 10, timeout: .milliseconds(100), from: .now)
        #expect(first.code == .deadlineExceeded)
        let start = ContinuousClock.now
        // Started first, deadline last: the timer is armed at 1.5 s, then moved to 300 ms.
        async let long = Self.sleep(client, milliseconds: 10_000, timeout: .milliseconds(1_500), from: start)
        try await Task.sleep(for: .milliseconds(50))
        async let short = Self.sleep(client, milliseconds: 10_000, timeout: .milliseconds(300), from: start)

        let (shortEnd, longEnd) = await (short, long)
        #expect(shortEnd.code == .deadlineExceeded && shortEnd.after >= .milliseconds(340))
        #expect(longEnd.code == .deadlineExceeded && longEnd.after >= .milliseconds(1_500))
        #expect(shortEnd.after < longEnd.after, "the earlier deadline ended first: \(shortEnd.after) vs \(longEnd.after)")
        // Both well before their 10 s of work: the deadlines ended them.
        #expect(longEnd.after < .seconds(8))

        // After the timer fired (and had nothing left), a new deadline arms it again.
        let again = await Self.sleep(client, milliseconds: 10_000, timeout: .milliseconds(200), from: .now)
        #expect(again.code == .deadlineExceeded && again.after >= .milliseconds(200) && again.after < .seconds(8))
        await client.close()
        try await server.close()
    }

    @Test("a hundred calls with deadlines on one connection, half answered in time and half not: each ends by its own")
    func manyDeadlines() async throws {
        let server = try ServerProcess("retain-echo")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        _ = try await client.unary(Retain_V1_Echo.echo, .init(text: "connect"))
        let start = ContinuousClock.now
        let ends = await withTaskGroup(of: (Int, RPCStatusCode).self) { group in
            for index in 0..<100 {
                group.addTask {
                    // Even: sleeps 20 ms within 2 s. Odd: sleeps 10 s within 200-690 ms.
                    let late = index % 2 == 1
                    let end = await Self.sleep(
                        client, milliseconds: late ? 10_000 : 20,
                        timeout: late ? .milliseconds(200 + 10 * (index / 2)) : .seconds(2), from: start)
                    return (index, end.code)
                }
            }
            var ends: [Int: RPCStatusCode] = [:]
            for await (index, code) in group { ends[index] = code }
            return ends
        }
        #expect(ends.filter { $0.key % 2 == 0 }.allSatisfy { $0.value == .ok })
        #expect(ends.filter { $0.key % 2 == 1 }.allSatisfy { $0.value == .deadlineExceeded })
        #expect(ContinuousClock.now - start < .seconds(8))
        await client.close()
        server.stop()
    }
}
