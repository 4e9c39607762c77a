import Foundation
import NIOCore
import RetainProto
import RetainRPC

/// Drives transfers between funded user accounts over the wire and counts the durable ones.
struct LedgerLoad: Sendable {
    let client: RPCClient
    let users: Int
    static let source = "system:bench:points"

    /// Opens the funding account and credits every user a large balance.
    func fund() async throws {
        _ = try await client.unary(Retain_V1_Ledger.openAccount, Retain_V1_OpenAccountRequest(accountId: Self.source))
        var start = 0
        while start < users {
            let end = min(users, start + 1000)
            let transfers = (start..<end).map { user in
                Retain_V1_Transfer(
                    transferId: "fund-\(user)", debitAccountId: Self.source,
                    creditAccountId: account(user), amount: 1_000_000_000, asset: "points",
                    kind: .issue)
            }
            let answer = try await client.unary(Retain_V1_Ledger.createTransfers, Retain_V1_CreateTransfersRequest(transfers: transfers))
            guard answer.results.allSatisfy({ $0.code == .ok }) else {
                throw LoadError("funding failed: \(answer.results.first { $0.code != .ok }!)")
            }
            start = end
        }
    }

    /// `concurrency` calls in flight on one connection to `port`, reading one account back to
    /// back for `seconds`: the RPC round trip without the log, as a baseline. Returns calls per
    /// second.
    func reads(port: Int, concurrency: Int, seconds: Int) async throws -> Double {
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.callsInFlight = concurrency
        configuration.deadline = .now() + .seconds(Int64(seconds))
        let frame = PipelinedClient.requestFrame(Retain_V1_Ledger.getAccount, Retain_V1_GetAccountRequest(accountId: account(1)))
        let report = try await PipelinedClient.run(configuration) { _ in RepeatedRequest(frame: frame) }
        return Double(report.calls) / report.seconds
    }

    /// Transfers of 1 point between random users over `connections` connections of the
    /// pipelined client, `inFlight` CreateTransfers calls of `batch` transfers open on each, until
    /// `deadline` or `callsPerConnection` calls; returns the transfers acknowledged applied and
    /// the seconds taken. `compact` asks for answers that list only the transfers not newly
    /// applied (`omit_applied`).
    func run(
        port: Int, connections: Int, inFlight: Int, batch: Int, deadline: NIODeadline?, callsPerConnection: Int?,
        compact: Bool, tag: String
    ) async throws -> (transfers: Int, seconds: Double) {
        let users = users
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.connections = connections
        configuration.callsInFlight = inFlight
        configuration.deadline = deadline
        let report = try await PipelinedClient.run(configuration) { connection in
            TransferCalls(
                frames: TransferFrames(tag: tag, connection: connection, batch: batch, users: users, omitApplied: compact),
                compact: compact, calls: callsPerConnection)
        }
        return (report.connections.reduce(0) { $0 + $1.applied }, report.seconds)
    }

    /// `concurrency` tasks sending CreateTransfers of `batch` transfers back to back through
    /// `RPCClient` for `seconds` (kept to show what the async client costs beside the pipelined
    /// one); returns acknowledged (OK) transfers per second.
    func runAsync(concurrency: Int, batch: Int, seconds: Int, callsPerWorker: Int? = nil, tag: String) async throws -> Double {
        let users = users
        let client = client
        let started = ContinuousClock.now
        let until = started + .seconds(seconds)
        let done = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var generator = SplitMix(seed: UInt64(worker) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(tag.hashValue & 0xffff))
                    var count = 0
                    var call = 0
                    var transfers: [Retain_V1_Transfer] = []
                    transfers.reserveCapacity(batch)
                    while callsPerWorker.map({ call < $0 }) ?? (ContinuousClock.now < until) {
                        transfers.removeAll(keepingCapacity: true)
                        for item in 0..<batch {
                            let from = Int(generator.next() % UInt64(users))
                            var to = Int(generator.next() % UInt64(users))
                            if to == from { to = (to + 1) % users }
                            transfers.append(
                                Retain_V1_Transfer(
                                    transferId: "\(tag)-\(worker)-\(call)-\(item)", debitAccountId: account(from),
                                    creditAccountId: account(to), amount: 1, asset: "points", kind: .adjustment))
                        }
                        let answer = try await client.unary(
                            Retain_V1_Ledger.createTransfers,
                            Retain_V1_CreateTransfersRequest(transfers: transfers))
                        for result in answer.results where result.code == .ok { count += 1 }
                        call += 1
                    }
                    return count
                }
            }
            var total = 0
            for try await count in group { total += count }
            return total
        }
        let elapsed = ContinuousClock.now - started
        let secondsTaken = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(done) / secondsTaken
    }

    /// Digits of the zero-padded user numbers below `users`.
    static func userWidth(_ users: Int) -> Int { String(max(users - 1, 0)).count }

    /// The account id of user number `user`: `user:u<number>:points`, the number zero-padded to
    /// a fixed width so that ``TransferFrames`` can patch it in place.
    func account(_ user: Int) -> String {
        let digits = String(user)
        return "user:u" + String(repeating: "0", count: max(0, Self.userWidth(users) - digits.count)) + digits + ":points"
    }
}

/// A small fast random generator (SplitMix64).
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The load could not run.
struct LoadError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}
