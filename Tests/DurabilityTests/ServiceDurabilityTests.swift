import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// Every stateful service, as a hostile tester would run it: SIGKILL under writes and reads of
/// the same keys, and a disk that fills up. The oracle: every write confirmed, and every object
/// any reader was shown, is there after the restart; nothing refused ever shows.
@Suite("service durable truth", .serialized)
struct ServiceDurabilityTests {
    static func arguments(_ data: String) -> [String] {
        ["serve", "--data-dir", data, "--log-level", "error", "--snapshot-every-records", "100000000"]
    }

    @Test(
        "SIGKILL under writes and concurrent reads of the same keys: nothing a reader saw is gone after restart",
        arguments: KeyedService.all)
    func killWithConcurrentReaders(_ service: KeyedService) async throws {
        let directory = try DataDirectory("kill-readers-\(service.executable)")
        defer { directory.remove() }
        let data = directory.path + "/data"
        // Each log write waits 15 ms: a wide window between a change in memory and on disk.
        let slow = ["RETAIN_FAULT_WRITE_DELAY_MS": "15"]
        var acknowledged = Set<String>()
        var seen = Set<String>()
        for round in 0..<3 {
            let server = try ServerProcess(service.executable, arguments: Self.arguments(data), environment: slow)
            let writer = RPCClient(host: "127.0.0.1", port: server.port)
            let reader = RPCClient(host: "127.0.0.1", port: server.port)
            if round == 0 { try await service.setUp(writer) }
            let inFlight = SharedSet()
            let progress = Progress()
            let results = await withTaskGroup(of: (acked: [String], seen: [String]).self) { group in
                for worker in 0..<6 {
                    group.addTask {
                        var acked: [String] = []
                        for number in 0... {
                            let id = "r\(round)w\(worker)n\(number)"
                            inFlight.ids.withLock { _ = $0.insert(id) }
                            do {
                                try await service.write(writer, id)
                                acked.append(id)
                                progress.counts.withLock { $0.acked += 1 }
                            } catch {
                                return (acked, [])
                            }
                            inFlight.ids.withLock { _ = $0.remove(id) }
                        }
                        return (acked, [])
                    }
                }
                for _ in 0..<2 {
                    group.addTask {
                        var found: [String] = []
                        while true {
                            let asked = inFlight.ids.withLock { Array($0.prefix(16)) }
                            if asked.isEmpty {
                                await Task.yield()
                                continue
                            }
                            do {
                                let present = try await service.present(reader, asked)
                                found += present
                                progress.counts.withLock { $0.seen += present.count }
                            } catch {
                                return ([], found)
                            }
                        }
                    }
                }
                // Kill at a random moment once the round has done enough to prove something (the
                // machine may be slow: wait for the work, not for a time).
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline {
                    let (acked, seen) = progress.counts.withLock { ($0.acked, $0.seen) }
                    if acked >= 20, seen >= 1 { break }
                    try? await Task.sleep(for: .milliseconds(20))
                }
                try? await Task.sleep(for: .milliseconds(Int.random(in: 0...300)))
                server.kill()
                var all: [(acked: [String], seen: [String])] = []
                for await result in group { all.append(result) }
                return all
            }
            await writer.close()
            await reader.close()
            for result in results {
                acknowledged.formUnion(result.acked)
                seen.formUnion(result.seen)
            }
        }
        #expect(acknowledged.count >= 60, "only \(acknowledged.count) writes were confirmed")
        #expect(!seen.isEmpty, "the readers never saw a write in flight; the test proves nothing")

        let server = try ServerProcess(service.executable, arguments: Self.arguments(data))
        defer { server.stop() }
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let present = try await service.present(client, Array(acknowledged.union(seen)))
        let lostSeen = seen.subtracting(present)
        let lostAcknowledged = acknowledged.subtracting(present)
        #expect(lostSeen.isEmpty, "\(lostSeen.count) writes were shown to a reader and are gone: \(lostSeen.prefix(5))")
        #expect(lostAcknowledged.isEmpty, "\(lostAcknowledged.count) confirmed writes are gone: \(lostAcknowledged.prefix(5))")
        await client.close()
    }

    @Test(
        "a full disk: UNAVAILABLE with not_processed, refused writes never show, /readyz 503, all returns with space",
        .enabled(if: canMountFilesystems, "mounts a small tmpfs (root only)"),
        arguments: [KeyedService.profile, .growth, .feedback])
    func fullDisk(_ service: KeyedService) async throws {
        let directory = try DataDirectory("full-disk-\(service.executable)")
        defer { directory.remove() }
        try directory.mountSmallFilesystem(mebibytes: 12)
        let data = directory.path + "/data"
        let server = try ServerProcess(service.executable, arguments: Self.arguments(data))
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        try await service.setUp(client)
        #expect(await readiness(server) == 200)
        let filler = try fill(directory.path, leaving: 128 << 10)

        var acknowledged: [String] = []
        var refused: [String] = []
        var refusals = Set<String>()
        var number = 0
        while refused.count < 30, number < 50_000 {
            let id = "full\(number)"
            number += 1
            if let error = await failure({ try await service.write(client, id) }) {
                refused.append(id)
                refusals.insert("\(error.code) not_processed=\(error.details["not_processed"] ?? "-")")
            } else {
                acknowledged.append(id)
            }
        }
        #expect(acknowledged.count > 50, "the disk filled before much was written: \(acknowledged.count)")
        #expect(refused.count == 30, "the disk never filled")
        #expect(refusals == ["UNAVAILABLE not_processed=true"], "a full disk answered \(refusals)")
        #expect(await eventually { await readiness(server) == 503 }, "/readyz stays 200 on a full disk")
        let reader = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await service.presentWhenServing(reader, refused).isEmpty, "refused writes are visible")
        #expect(try await service.presentWhenServing(reader, acknowledged) == Set(acknowledged))

        try FileManager.default.removeItem(atPath: filler)
        #expect(await eventually { await readiness(server) == 200 }, "/readyz did not come back after space was freed")
        for id in refused { try await service.write(client, id) }
        await client.close()
        await reader.close()
        server.kill()

        let restarted = try ServerProcess(service.executable, arguments: Self.arguments(data))
        defer { restarted.stop() }
        let after = RPCClient(host: "127.0.0.1", port: restarted.port)
        let all = acknowledged + refused
        #expect(try await service.present(after, all) == Set(all))
        await after.close()
    }
}
