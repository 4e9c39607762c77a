import ArgumentParser
import RetainProto
import RetainRPC

/// The hot-path call `retain-bench fixed-calls` repeats: one per service, each with a fixed
/// set-up (the same in every run, so it cancels out when two runs with different call counts
/// are subtracted) and a call numbered by `index`, so every write is new.
enum FixedCall: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// Echo of 16 bytes (retain-echo).
    case echo
    /// Profile.GetProfile of one of the registered users.
    case getProfile = "get-profile"
    /// Profile.RecordActivity: one new event of a registered user.
    case recordActivity = "record-activity"
    /// Growth.AwardGrowth: a purchase of an existing user under a new idempotency key.
    case awardGrowth = "award-growth"
    /// Ledger.CreateTransfers with one transfer between funded accounts.
    case transfer
    /// Ledger.CreateTransfers with ``batchSize`` transfers, the compact answer (`omit_applied`).
    case transferBatch = "transfer-batch"
    /// Feedback.SubmitFeedback: a new item.
    case submitFeedback = "submit-feedback"

    /// Users (profiles, growth users, ledger accounts, feedback authors) the calls spread over.
    static let users = 1_000
    /// Transfers per call of ``transferBatch``.
    static let batchSize = 1_000
    /// The ledger account transfers are funded from.
    static let fundingAccount = "system:bench:points"

    /// Transfers a call makes (for per-transfer figures): the batch size or 1.
    var transfersPerCall: Int { self == .transferBatch ? Self.batchSize : 1 }

    /// The fixed set-up: users registered (Profile), accounts funded (Ledger), users created
    /// (Growth); nothing for the others.
    func prepare(_ client: RPCClient) async throws {
        switch self {
        case .getProfile, .recordActivity:
            for user in 0..<Self.users {
                _ = try await client.unary(
                    Retain_V1_Profile.registerUser,
                    Retain_V1_RegisterUserRequest(userId: Self.user(user), requestId: "register-\(user)", channel: "organic"))
            }
        case .awardGrowth:
            for user in 0..<Self.users {
                _ = try await client.unary(
                    Retain_V1_Growth.awardGrowth,
                    Retain_V1_AwardGrowthRequest(userId: Self.user(user), action: "login", idempotencyKey: "seed-\(user)"))
            }
        case .transfer, .transferBatch:
            _ = try await client.unary(Retain_V1_Ledger.openAccount, Retain_V1_OpenAccountRequest(accountId: Self.fundingAccount))
            let funding = (0..<Self.users).map { user in
                Retain_V1_Transfer(
                    transferId: "fund-\(user)", debitAccountId: Self.fundingAccount, creditAccountId: Self.account(user),
                    amount: 1_000_000_000, asset: "points", kind: .issue)
            }
            let answer = try await client.unary(Retain_V1_Ledger.createTransfers, Retain_V1_CreateTransfersRequest(transfers: funding))
            if let failed = answer.results.first(where: { $0.code != .ok }) { throw FixedCallError("funding failed: \(failed)") }
        case .echo, .submitFeedback:
            break
        }
    }

    /// Makes call number `index` (numbers are never repeated within a run).
    func call(_ client: RPCClient, _ index: Int) async throws {
        let user = index % Self.users
        switch self {
        case .echo:
            _ = try await client.unary(Retain_V1_Echo.echo, Retain_V1_EchoRequest(payload: Array(repeating: 0x61, count: 16)))
        case .getProfile:
            _ = try await client.unary(Retain_V1_Profile.getProfile, Retain_V1_GetProfileRequest(userId: Self.user(user)))
        case .recordActivity:
            _ = try await client.unary(
                Retain_V1_Profile.recordActivity,
                Retain_V1_RecordActivityRequest(
                    userId: Self.user(user), eventId: "event-\(index)", kind: index % 3 == 0 ? "login" : "visit"))
        case .awardGrowth:
            _ = try await client.unary(
                Retain_V1_Growth.awardGrowth,
                Retain_V1_AwardGrowthRequest(
                    userId: Self.user(user), action: "purchase", idempotencyKey: "award-\(index)", value: Int64(index % 50) * 100))
        case .transfer, .transferBatch:
            let count = transfersPerCall
            let transfers = (0..<count).map { offset in
                let number = index &* count &+ offset
                return Retain_V1_Transfer(
                    transferId: "transfer-\(number)", debitAccountId: Self.account(number % Self.users),
                    creditAccountId: Self.account((number &* 7 &+ 1) % Self.users), amount: 1, asset: "points", kind: .adjustment)
            }
            let answer = try await client.unary(
                Retain_V1_Ledger.createTransfers, Retain_V1_CreateTransfersRequest(transfers: transfers, omitApplied: count > 1))
            if let failed = answer.results.first(where: { $0.code != .ok }) { throw FixedCallError("transfer failed: \(failed)") }
        case .submitFeedback:
            _ = try await client.unary(
                Retain_V1_Feedback.submitFeedback,
                Retain_V1_SubmitFeedbackRequest(
                    userId: Self.user(user), requestId: "feedback-\(index)", kind: index % 2 == 0 ? .suggestion : .complaint,
                    category: "delivery", text: "The order page is very slow, this is the \(index % 13 + 2)th time", channel: "app"))
        }
    }

    static func user(_ number: Int) -> String { "user-\(number)" }

    static func account(_ number: Int) -> String { "user:u\(number):points" }
}

/// A fixed call that did not do what it should (the counts would be of the wrong work).
struct FixedCallError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
