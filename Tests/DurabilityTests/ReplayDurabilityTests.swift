import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import Testing

/// One service's idempotent write: the original and its retry are the same request.
struct ReplayCase: CustomTestStringConvertible, Sendable {
    let executable: String
    let extraArguments: [String]
    /// Runs once before the race (durably).
    let setUp: @Sendable (RPCClient) async throws -> Void
    /// Sends the write; returns whether the answer says it was a replay.
    let send: @Sendable (RPCClient) async throws -> Bool
    /// Whether the write is present after a restart.
    let isPresent: @Sendable (RPCClient) async throws -> Bool

    var testDescription: String { executable }

    static let all: [ReplayCase] = [
        ReplayCase(
            executable: "retain-profile", extraArguments: [], setUp: { _ in },
            send: { client in
                try await client.unary(
                    Retain_V1_Profile.registerUser,
                    .init(
                        userId: "u-replay", requestId: "req-replay", channel: "organic")
                ).replayed
            },
            isPresent: { client in
                (try? await client.unary(Retain_V1_Profile.getProfile, .init(userId: "u-replay"))) != nil
            }),
        ReplayCase(
            executable: "retain-ledger", extraArguments: [],
            setUp: { client in
                _ = try await client.unary(Retain_V1_Ledger.openAccount, .init(accountId: "budget:replay:points"))
            },
            send: { client in
                let transfer = Retain_V1_Transfer(
                    transferId: "t-replay", debitAccountId: "budget:replay:points",
                    creditAccountId: "user:u1:points", amount: 5, asset: "points", kind: .taskReward)
                return try await client.unary(Retain_V1_Ledger.createTransfers, .init(transfers: [transfer])).results.first?.replayed
                    ?? false
            },
            isPresent: { client in
                try await client.unary(Retain_V1_Ledger.lookupTransfers, .init(transferIds: ["t-replay"])).missingIds.isEmpty
            }),
        ReplayCase(
            executable: "retain-growth", extraArguments: [], setUp: { _ in },
            send: { client in
                try await client.unary(
                    Retain_V1_Growth.awardGrowth,
                    .init(
                        userId: "u-replay", action: "sign_up", idempotencyKey: "k-replay")
                ).replayed
            },
            isPresent: { client in
                try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: "u-replay")).totalGrowth == 100
            }),
        ReplayCase(
            executable: "retain-feedback", extraArguments: [], setUp: { _ in },
            send: { client in
                try await client.unary(
                    Retain_V1_Feedback.submitFeedback,
                    .init(
                        userId: "u-replay", requestId: "req-replay", kind: .complaint, category: "payment",
                        text: "charged twice for one order")
                ).replayed
            },
            isPresent: { client in
                try await client.unary(Retain_V1_Feedback.getUserFeedbackHistory, .init(userId: "u-replay")).totalItems == 1
            }),
    ]
}

/// A retry that arrives while its original is applied but not yet durable must not be confirmed
/// before the original is: killed right after the retry's answer, the write must survive.
@Suite("replays and durability", .serialized)
struct ReplayDurabilityTests {
    @Test(
        "a replay racing its original is answered only once the original is durable, then SIGKILL loses nothing",
        arguments: ReplayCase.all)
    func replayThenKill(_ service: ReplayCase) async throws {
        let directory = try DataDirectory("replay-\(service.executable)")
        defer { directory.remove() }
        let arguments = ["serve", "--data-dir", directory.path + "/data", "--log-level", "error"] + service.extraArguments
        // Each log write waits 2.5 s: the original stays applied-but-not-durable that long.
        let server = try ServerProcess(
            service.executable, arguments: arguments,
            environment: ["RETAIN_FAULT_WRITE_DELAY_MS": "2500"])
        let first = RPCClient(host: "127.0.0.1", port: server.port)
        let second = RPCClient(host: "127.0.0.1", port: server.port)
        try await service.setUp(first)
        let original = Task { try await service.send(first) }
        try await Task.sleep(for: .milliseconds(700))
        let sent = ContinuousClock.now
        let replayed = try await service.send(second)
        let waited = ContinuousClock.now - sent
        server.kill()
        _ = await original.result
        await first.close()
        await second.close()
        #expect(replayed, "the second call was not recognised as a retry")

        let restarted = try ServerProcess(service.executable, arguments: arguments)
        defer { restarted.stop() }
        let client = RPCClient(host: "127.0.0.1", port: restarted.port)
        #expect(
            try await service.isPresent(client),
            "confirmed as a replay after \(waited), then lost: the original was not durable yet")
        await client.close()
    }
}
