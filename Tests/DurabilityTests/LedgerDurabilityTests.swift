import Foundation
import Glibc
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// The ledger against a real disk, a full disk, SIGKILL and a second writer: nobody is ever
/// shown or confirmed a transfer that is not durable (issue: durable truth).
@Suite("ledger durable truth", .serialized)
struct LedgerDurabilityTests {
    static let ledger = Retain_V1_Ledger.self
    static let budget = KeyedService.budget

    static func transfer(_ id: String) -> Retain_V1_Transfer { KeyedService.transfer(id) }

    static func arguments(_ data: String, _ extra: [String] = []) -> [String] {
        ["serve", "--data-dir", data, "--log-level", "error", "--snapshot-every-records", "100000000"] + extra
    }

    /// The ids among `ids` the ledger holds, asking until it answers (it refuses reads while it
    /// rebuilds its state after a storage failure).
    static func present(_ client: RPCClient, _ ids: [String]) async throws -> Set<String> {
        try await KeyedService.ledger.presentWhenServing(client, ids)
    }

    static func budgetBalance(_ client: RPCClient) async throws -> Int64 {
        try await client.unary(ledger.getAccount, .init(accountId: budget)).account?.balance ?? 0
    }

    @Test(
        "a full disk: writes answer UNAVAILABLE with not_processed, failed transfers never show, /readyz is 503; all returns with space",
        .enabled(if: canMountFilesystems, "mounts a small tmpfs (root only)"))
    func fullDisk() async throws {
        let directory = try DataDirectory("ledger-full-disk")
        defer { directory.remove() }
        try directory.mountSmallFilesystem(mebibytes: 12)
        let data = directory.path + "/data"
        let server = try ServerProcess("retain-ledger", arguments: Self.arguments(data))
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        _ = try await client.unary(Self.ledger.openAccount, .init(accountId: Self.budget))
        #expect(await readiness(server) == 200)
        let filler = try fill(directory.path, leaving: 128 << 10)

        var acknowledged: [String] = []
        var refused: [String] = []
        var refusals = Set<String>()
        var number = 0
        while refused.count < 40, number < 50_000 {
            let id = "full-\(number)"
            number += 1
            if let error = await failure({
                let answer = try await client.unary(Self.ledger.createTransfers, .init(transfers: [Self.transfer(id)]))
                if answer.results.first?.code == .ok { acknowledged.append(id) }
            }) {
                refused.append(id)
                refusals.insert("\(error.code) not_processed=\(error.details["not_processed"] ?? "-")")
            }
        }
        #expect(acknowledged.count > 100, "the disk filled before much was written: \(acknowledged.count)")
        #expect(refused.count == 40, "the disk never filled")
        #expect(refusals == ["UNAVAILABLE not_processed=true"], "full disk answered \(refusals)")
        #expect(await eventually { await readiness(server) == 503 }, "/readyz stays 200 on a full disk")

        // Nothing refused is visible, on any connection; the budget holds exactly what was confirmed.
        let reader = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await Self.present(reader, refused).isEmpty, "refused transfers are visible")
        #expect(try await Self.present(reader, acknowledged) == Set(acknowledged))
        #expect(try await Self.budgetBalance(reader) == -3 * Int64(acknowledged.count))
        // Retries on the still-full disk are refused the same way.
        for id in refused.prefix(5) {
            let error = await failure { _ = try await client.unary(Self.ledger.createTransfers, .init(transfers: [Self.transfer(id)])) }
            #expect(error?.code == .unavailable)
        }

        // Space comes back: the ledger is ready again by itself, and the retries apply once.
        try FileManager.default.removeItem(atPath: filler)
        #expect(await eventually { await readiness(server) == 200 }, "/readyz did not come back after space was freed")
        for id in refused {
            let answer = try await client.unary(Self.ledger.createTransfers, .init(transfers: [Self.transfer(id)]))
            #expect(answer.results.first?.code == .ok)
            #expect(answer.results.first?.replayed == false, "\(id) was applied before, while it was refused")
        }
        await client.close()
        await reader.close()
        server.kill()

        let restarted = try ServerProcess("retain-ledger", arguments: Self.arguments(data))
        defer { restarted.stop() }
        let after = RPCClient(host: "127.0.0.1", port: restarted.port)
        let all = acknowledged + refused
        #expect(try await Self.present(after, all) == Set(all))
        #expect(try await Self.budgetBalance(after) == -3 * Int64(all.count))
        let audit = try await after.unary(Self.ledger.audit, .init(verifyChain: true))
        #expect(audit.balanced && audit.chainVerified)
        await after.close()
    }

    @Test("deleting the LOCK file lets no second ledger open the directory; the refusal names the holder")
    func deletedLockFile() async throws {
        let directory = try DataDirectory("ledger-lock")
        defer { directory.remove() }
        let data = directory.path + "/data"
        let first = try ServerProcess("retain-ledger", arguments: Self.arguments(data))
        defer { first.stop() }
        try FileManager.default.removeItem(atPath: data + "/LOCK")
        do {
            let second = try ServerProcess("retain-ledger", arguments: Self.arguments(data), timeout: .seconds(15))
            second.kill()
            Issue.record("a second ledger started on a directory in use")
        } catch let error as ServerProcessError {
            #expect("\(error)".contains("locked by process \(first.process.processIdentifier)"), "\(error)")
        }
        // The first one still serves, alone.
        let client = RPCClient(host: "127.0.0.1", port: first.port)
        _ = try await client.unary(Self.ledger.openAccount, .init(accountId: Self.budget))
        await client.close()
    }

    @Test("a frame limit the log cannot hold is refused at start, naming both limits")
    func frameAndRecordLimits() async throws {
        let directory = try DataDirectory("ledger-limits")
        defer { directory.remove() }
        let data = directory.path + "/data"
        do {
            let server = try ServerProcess(
                "retain-ledger", arguments: Self.arguments(data, ["--max-frame-bytes", "33554432"]),
                timeout: .seconds(15))
            server.kill()
            Issue.record("the ledger started with a 32 MiB frame limit over a 16 MiB record limit")
        } catch let error as ServerProcessError {
            #expect("\(error)".contains("--max-record-bytes"), "\(error)")
        }
        // Raising the record limit with it is accepted, and a large batch round-trips a restart.
        let limits = ["--max-frame-bytes", "33554432", "--max-record-bytes", "67108864"]
        let server = try ServerProcess("retain-ledger", arguments: Self.arguments(data, limits))
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        _ = try await client.unary(Self.ledger.openAccount, .init(accountId: Self.budget))
        let batch = (0..<8000).map { Self.transfer("big-\($0)") }
        let answer = try await client.unary(
            Self.ledger.createTransfers, .init(transfers: batch),
            options: CallOptions(timeout: .seconds(30)))
        #expect(answer.results.allSatisfy { $0.code == .ok })
        _ = try await client.unary(Self.ledger.createTransfers, .init(transfers: [Self.transfer("after")]))
        await client.close()
        server.kill()
        let restarted = try ServerProcess("retain-ledger", arguments: Self.arguments(data, limits))
        defer { restarted.stop() }
        let after = RPCClient(host: "127.0.0.1", port: restarted.port)
        let ids = batch.map(\.transferId) + ["after"]
        #expect(try await Self.present(after, ids).count == ids.count)
        await after.close()
    }
}
