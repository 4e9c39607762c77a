import Foundation
import LedgerCore
import RetainProto

/// The domain alone, in memory, no RPC and no disk: how fast entries of transfers apply.
enum CoreBenchmark {
    /// Applies `calls` entries of `batch` user-to-user transfers; returns transfers per second.
    static func run(users: Int, batch: Int, calls: Int) throws -> (wall: Double, cpu: Double) {
        var state = LedgerState()
        var entry = Retain_V1_LedgerEntry(kind: .openAccount, atMs: 1, openAccount: .init(accountId: "system:bench:points"))
        _ = try state.apply(completing: &entry)
        var funding: [Retain_V1_Transfer] = []
        for user in 0..<users {
            funding.append(
                Retain_V1_Transfer(
                    transferId: "fund-\(user)", debitAccountId: "system:bench:points",
                    creditAccountId: "user:u\(user):points", amount: 1_000_000_000,
                    asset: "points", kind: .issue))
        }
        entry = Retain_V1_LedgerEntry(kind: .createTransfers, atMs: 2, transfers: funding)
        _ = try state.apply(completing: &entry)
        var generator = SplitMix(seed: 42)
        var entries: [Retain_V1_LedgerEntry] = []
        for call in 0..<calls {
            var transfers: [Retain_V1_Transfer] = []
            for item in 0..<batch {
                let from = Int(generator.next() % UInt64(users))
                let to = (from + 1 + Int(generator.next() % UInt64(users - 1))) % users
                transfers.append(
                    Retain_V1_Transfer(
                        transferId: "c-\(call)-\(item)", debitAccountId: "user:u\(from):points",
                        creditAccountId: "user:u\(to):points", amount: 1, asset: "points", kind: .adjustment))
            }
            entries.append(Retain_V1_LedgerEntry(kind: .createTransfers, atMs: 3, transfers: transfers))
        }
        let start = ContinuousClock.now
        let cpuStart = threadCPUSeconds()
        for var entry in entries {
            _ = try state.apply(completing: &entry)
        }
        let cpu = threadCPUSeconds() - cpuStart
        let elapsed = ContinuousClock.now - start
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (Double(batch * calls) / wall, Double(batch * calls) / cpu)
    }

    /// CPU time of the calling thread, in seconds.
    static func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
