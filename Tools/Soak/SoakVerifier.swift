import RetainProto
import RetainRPC
import RetainWire
import Synchronization

/// Checks, once the load and the faults are over, that every write the soak saw acknowledged
/// is in the services' state, exactly once:
///
/// - every registered user exists, with exactly its acknowledged activity events;
/// - every user's growth equals the sum of its acknowledged awards; every check-in shows;
/// - every user's ledger balance equals the sum of its acknowledged transfers, and the budget
///   account is debited exactly their total (no transfer lost, none applied twice);
/// - every acknowledged feedback item exists, and each user has exactly that many.
///
/// It reads straight from the services, or, in a replicated suite, through the gateway, which
/// sends every read to the shard's leader.
struct SoakVerifier: Sendable {
    /// What the check found.
    struct Result: Sendable {
        /// Acknowledged writes checked, per kind.
        var checked: [String: Int] = [:]
        /// Writes acknowledged but missing (or short) in the state.
        var lost: [String] = []
        /// Writes applied more often than acknowledged.
        var duplicated: [String] = []
        /// Reads that failed, so that something could not be checked.
        var unreadable: [String] = []

        /// True when nothing was lost, duplicated or left unchecked.
        var passed: Bool { lost.isEmpty && duplicated.isEmpty && unreadable.isEmpty }
    }

    let workload: SoakWorkload

    /// Reads the state back and compares it with `acknowledged`.
    func verify(_ acknowledged: SoakBook.Acknowledged) async -> Result {
        let box = ResultBox()
        let window: Duration = .seconds(30)
        @Sendable func note(_ body: (inout Result) -> Void) { box.state.withLock { body(&$0) } }

        // Profile: users and their activity.
        await Self.forEach(Array(acknowledged.users)) { user in
            let answer = await workload.settle("verify.profile", route: workload.serviceRoute("profile"), window: window) {
                client, options in
                try await Self.orNotFound { try await client.unary(Retain_V1_Profile.getProfile, .init(userId: user), options: options) }
            }
            guard let answer else { return note { $0.unreadable.append("profile \(user)") } }
            guard let profile = answer?.profile else { return note { $0.lost.append("user \(user)") } }
            let expected = UInt64(acknowledged.activities[user]?.count ?? 0)
            note { result in
                result.checked["profile.register", default: 0] += 1
                result.checked["profile.activity", default: 0] += Int(expected)
                if profile.activityCount < expected { result.lost.append("activity of \(user): \(profile.activityCount) of \(expected)") }
                if profile.activityCount > expected {
                    result.duplicated.append("activity of \(user): \(profile.activityCount), acknowledged \(expected)")
                }
            }
        }

        // Growth: awards per user, check-ins.
        var awards: [String: Int64] = [:]
        for award in acknowledged.awards.values { awards[award.userID, default: 0] += award.awarded }
        await Self.forEach(Array(awards)) { user, expected in
            let answer = await workload.settle("verify.growth", route: workload.serviceRoute("growth"), window: window) { client, options in
                try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: user), options: options)
            }
            guard let answer else { return note { $0.unreadable.append("growth \(user)") } }
            note { result in
                result.checked["growth.award", default: 0] += acknowledged.awards.values.filter { $0.userID == user }.count
                if answer.totalGrowth < expected { result.lost.append("growth of \(user): \(answer.totalGrowth) of \(expected)") }
                if answer.totalGrowth > expected {
                    result.duplicated.append("growth of \(user): \(answer.totalGrowth), acknowledged \(expected)")
                }
            }
        }
        await Self.forEach(Array(acknowledged.checkIns)) { user in
            let answer = await workload.settle("verify.growth", route: workload.serviceRoute("growth"), window: window) { client, options in
                try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: user), options: options)
            }
            guard let answer else { return note { $0.unreadable.append("check-in \(user)") } }
            note { result in
                result.checked["growth.checkin", default: 0] += 1
                if answer.streakDays == 0 { result.lost.append("check-in of \(user)") }
            }
        }

        // Ledger: balances per user and the budget.
        var balances: [String: Int64] = [:]
        for transfer in acknowledged.transfers.values { balances[transfer.userID, default: 0] += transfer.amount }
        await Self.forEach(Array(balances)) { user, expected in
            let answer = await workload.settle("verify.ledger", route: workload.serviceRoute("ledger"), window: window) { client, options in
                try await Self.orNotFound {
                    try await client.unary(Retain_V1_Ledger.getBalance, .init(userId: user, assets: [SoakWorkload.asset]), options: options)
                }
            }
            guard let answer else { return note { $0.unreadable.append("balance \(user)") } }
            let balance = answer?.balances.first { $0.asset == SoakWorkload.asset }?.balance ?? 0
            note { result in
                if balance < expected { result.lost.append("balance of \(user): \(balance) of \(expected)") }
                if balance > expected { result.duplicated.append("balance of \(user): \(balance), acknowledged \(expected)") }
            }
        }
        let total = acknowledged.transfers.values.reduce(0) { $0 + $1.amount }
        let budget = workload.budgetAccount
        let account = await workload.settle("verify.ledger", route: workload.serviceRoute("ledger"), window: window) { client, options in
            try await client.unary(Retain_V1_Ledger.getAccount, .init(accountId: budget), options: options)
        }
        note { result in
            result.checked["ledger.transfer", default: 0] += acknowledged.transfers.count
            guard let balance = account?.account?.balance else { return result.unreadable.append("account \(budget)") }
            if -balance < total { result.lost.append("\(budget) issued \(-balance) of \(total) acknowledged") }
            if -balance > total { result.duplicated.append("\(budget) issued \(-balance), acknowledged \(total)") }
        }

        // Feedback: each item, and the count per user.
        await Self.forEach(Array(acknowledged.feedback)) { user, items in
            let history = await workload.settle("verify.feedback", route: workload.serviceRoute("feedback"), window: window) {
                client, options in
                try await client.unary(Retain_V1_Feedback.getUserFeedbackHistory, .init(userId: user), options: options)
            }
            guard let history else { return note { $0.unreadable.append("feedback of \(user)") } }
            var missing: [String] = []
            for item in items.values {
                let found = await workload.settle("verify.feedback", route: workload.serviceRoute("feedback"), window: window) {
                    client, options in
                    try await Self.orNotFound {
                        try await client.unary(Retain_V1_Feedback.getFeedback, .init(itemId: item), options: options)
                    }
                }
                if found??.item?.userId != user { missing.append(item) }
            }
            note { result in
                result.checked["feedback.submit", default: 0] += items.count
                result.lost += missing.map { "feedback item \($0) of \(user)" }
                if history.totalItems > UInt64(items.count) {
                    result.duplicated.append("feedback of \(user): \(history.totalItems) items, acknowledged \(items.count)")
                }
            }
        }
        return box.state.withLock { $0 }
    }

    /// The result, filled in by concurrent checks.
    private final class ResultBox: Sendable {
        let state = Mutex(Result())
    }

    /// What `read` answers, or nil when it fails with NOT_FOUND.
    private static func orNotFound<Answer: Sendable>(_ read: () async throws -> Answer) async throws -> Answer? {
        do {
            return try await read()
        } catch let error as RPCError where error.code == .notFound {
            return nil
        }
    }

    /// Runs `body` for every element, 16 at a time.
    private static func forEach<Element: Sendable>(_ elements: [Element], _ body: @escaping @Sendable (Element) async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            var iterator = elements.makeIterator()
            for _ in 0..<16 {
                guard let element = iterator.next() else { break }
                group.addTask { await body(element) }
            }
            while await group.next() != nil {
                guard let element = iterator.next() else { continue }
                group.addTask { await body(element) }
            }
        }
    }
}
