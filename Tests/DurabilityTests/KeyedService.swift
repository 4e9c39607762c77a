import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// A service seen through one kind of keyed write and the read that finds it: what the
/// durability tests need to keep an oracle of every write acknowledged or seen.
struct KeyedService: CustomTestStringConvertible, Sendable {
    let executable: String
    /// Runs once on a fresh directory, before the load.
    let setUp: @Sendable (RPCClient) async throws -> Void
    /// Writes the object keyed `id`; throws when not confirmed.
    let write: @Sendable (RPCClient, String) async throws -> Void
    /// The ids among those given that the service holds (reads, which wait for durability).
    let present: @Sendable (RPCClient, [String]) async throws -> Set<String>

    var testDescription: String { executable }

    static let budget = "budget:durable:points"

    /// The ledger write of these tests: 3 points from ``budget`` to one of 40 users.
    static func transfer(_ id: String) -> Retain_V1_Transfer {
        Retain_V1_Transfer(
            transferId: id, debitAccountId: budget, creditAccountId: "user:u\(abs(id.hashValue) % 40):points",
            amount: 3, asset: "points", kind: .taskReward)
    }

    static let ledger = KeyedService(
        executable: "retain-ledger",
        setUp: { client in
            _ = try await client.unary(Retain_V1_Ledger.openAccount, .init(accountId: budget))
        },
        write: { client, id in
            let answer = try await client.unary(Retain_V1_Ledger.createTransfers, .init(transfers: [transfer(id)]))
            guard answer.results.first?.code == .ok else { throw RPCError(.internal, "transfer \(id) refused: \(answer)") }
        },
        present: { client, ids in
            var found = Set<String>()
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(ids.count, start + 500)])
                let answer = try await client.unary(Retain_V1_Ledger.lookupTransfers, .init(transferIds: chunk))
                found.formUnion(Set(chunk).subtracting(answer.missingIds))
            }
            return found
        })

    static let profile = KeyedService(
        executable: "retain-profile", setUp: { _ in },
        write: { client, id in
            _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: id, channel: "organic"))
        },
        present: { client, ids in
            try await eachPresent(ids) { id in
                do {
                    _ = try await client.unary(Retain_V1_Profile.getProfile, .init(userId: id))
                    return true
                } catch let error as RPCError where error.code == .notFound {
                    return false
                }
            }
        })

    static let growth = KeyedService(
        executable: "retain-growth", setUp: { _ in },
        write: { client, id in
            _ = try await client.unary(Retain_V1_Growth.awardGrowth, .init(userId: id, action: "sign_up", idempotencyKey: id))
        },
        present: { client, ids in
            try await eachPresent(ids) { id in
                try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: id)).totalGrowth > 0
            }
        })

    static let feedback = KeyedService(
        executable: "retain-feedback", setUp: { _ in },
        write: { client, id in
            _ = try await client.unary(
                Retain_V1_Feedback.submitFeedback,
                .init(
                    userId: id, requestId: id, kind: .complaint, category: "payment", text: "charged twice for order \(id)"))
        },
        present: { client, ids in
            try await eachPresent(ids) { id in
                try await client.unary(Retain_V1_Feedback.getUserFeedbackHistory, .init(userId: id)).totalItems > 0
            }
        })

    static let all = [ledger, profile, growth, feedback]

    private static func eachPresent(_ ids: [String], _ isPresent: (String) async throws -> Bool) async throws -> Set<String> {
        var found = Set<String>()
        for id in ids where try await isPresent(id) { found.insert(id) }
        return found
    }

    /// ``present`` asked until the service answers: it refuses reads (UNAVAILABLE) while it
    /// rebuilds its state after a storage failure.
    func presentWhenServing(_ client: RPCClient, _ ids: [String]) async throws -> Set<String> {
        for _ in 0..<300 {
            do {
                return try await present(client, ids)
            } catch let error as RPCError where error.code == .unavailable {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        throw HarnessError("\(executable) stayed UNAVAILABLE for reads")
    }
}

/// Ids shared between the writer and reader tasks of a test.
final class SharedSet: Sendable {
    let ids = Mutex<Set<String>>([])
}

/// What the writers and readers of a round have done so far.
final class Progress: Sendable {
    let counts = Mutex<(acked: Int, seen: Int)>((0, 0))
}
