import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import Testing

/// Transfers under load, SIGKILL at random moments, restart: every acknowledged transfer is
/// there exactly once, the books balance and the hash chain verifies.
@Suite("retain-ledger crash", .serialized)
struct LedgerCrashTests {
    static let ledger = Retain_V1_Ledger.self

    /// The transfer with id `id`: budget to one of 50 users, amount from the id.
    static func transfer(_ worker: Int, _ number: Int, linked: Bool = false) -> Retain_V1_Transfer {
        Retain_V1_Transfer(
            transferId: "w\(worker)-\(number)", debitAccountId: "budget:load:points",
            creditAccountId: "user:u\((worker * 7 + number) % 50):points", amount: Int64(number % 9 + 1),
            asset: "points", kind: .taskReward, linked: linked)
    }

    @Test("SIGKILL under load loses no acknowledged transfer and applies none twice")
    func killUnderLoad() async throws {
        let directory = try makeTemporaryDirectory("ledger-crash")
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["serve", "--data-dir", directory.path, "--log-level", "warning", "--snapshot-every-records", "300"]
        var acknowledged = Set<String>()
        var attempted: [Int: Int] = [:]  // worker -> transfers sent (numbers 0..<n)
        var generator = SystemRandomNumberGenerator()
        let workers = 8
        for round in 0..<4 {
            let server = try ServerProcess("retain-ledger", arguments: arguments)
            let client = RPCClient(host: "127.0.0.1", port: server.port)
            if round == 0 {
                _ = try await client.unary(Self.ledger.openAccount, .init(accountId: "budget:load:points"))
            }
            let starts = (0..<workers).map { attempted[$0 + round * workers, default: 0] }
            let killAfter = Duration.milliseconds(Int.random(in: 150...700, using: &generator))
            let results = await withTaskGroup(of: (Int, Int, [String]).self) { group in
                for worker in 0..<workers {
                    let id = worker + round * workers
                    group.addTask {
                        var acked: [String] = []
                        var number = starts[worker]
                        while true {
                            // Batches of three: the first two linked, the third alone.
                            let batch = [
                                Self.transfer(id, number, linked: true), Self.transfer(id, number + 1),
                                Self.transfer(id, number + 2),
                            ]
                            number += 3
                            do {
                                let answer = try await client.unary(Self.ledger.createTransfers, .init(transfers: batch))
                                for result in answer.results where result.code == .ok { acked.append(result.transferId) }
                            } catch {
                                return (id, number, acked)
                            }
                        }
                    }
                }
                try? await Task.sleep(for: killAfter)
                server.kill()
                var all: [(Int, Int, [String])] = []
                for await result in group { all.append(result) }
                return all
            }
            await client.close()
            for (worker, sent, acked) in results {
                attempted[worker] = sent
                acknowledged.formUnion(acked)
            }
        }
        #expect(acknowledged.count > 100, "the load acknowledged only \(acknowledged.count) transfers")

        let server = try ServerProcess("retain-ledger", arguments: arguments)
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        defer { server.stop() }
        // Every acknowledged transfer is there.
        let ids = Array(acknowledged).sorted()
        for start in stride(from: 0, to: ids.count, by: 1000) {
            let found = try await client.unary(
                Self.ledger.lookupTransfers,
                .init(transferIds: Array(ids[start..<min(ids.count, start + 1000)])))
            #expect(found.missingIds.isEmpty, "lost acknowledged transfers: \(found.missingIds.prefix(5))")
        }
        // Retrying everything ever attempted applies each transfer exactly once: acknowledged
        // ones replay, the others apply now, and the balances match the sum of all of them.
        var expected: [String: Int64] = [:]
        for (worker, sent) in attempted.sorted(by: { $0.key < $1.key }) {
            var number = 0
            while number < sent {
                let batch = [
                    Self.transfer(worker, number, linked: true), Self.transfer(worker, number + 1),
                    Self.transfer(worker, number + 2),
                ]
                let answer = try await client.unary(Self.ledger.createTransfers, .init(transfers: batch))
                for (transfer, result) in zip(batch, answer.results) {
                    #expect(result.code == .ok)
                    if acknowledged.contains(transfer.transferId) { #expect(result.replayed) }
                    expected[transfer.creditAccountId, default: 0] += transfer.amount
                }
                number += 3
            }
        }
        for user in 0..<50 {
            let account = "user:u\(user):points"
            guard let amount = expected[account] else { continue }
            let answer = try await client.unary(Self.ledger.getAccount, .init(accountId: account))
            #expect(answer.account?.balance == amount, "\(account)")
        }
        let audit = try await client.unary(Self.ledger.audit, .init(verifyChain: true))
        #expect(audit.balanced && audit.chainVerified)
        #expect(audit.journalLength == UInt64(attempted.values.reduce(0, +)))
        await client.close()
    }
}
