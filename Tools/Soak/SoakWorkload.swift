import Foundation
import RetainProto
import RetainRPC
import RetainWire
import Synchronization

/// The soak's mixed load: registrations and activity (Profile), awards and check-ins (Growth),
/// transfers (Ledger), submissions (Feedback), reads of each, and deliberate re-sends of
/// acknowledged transfers; half through the gateway, half straight to the services.
///
/// Every write carries a key of its own (user id, event id, idempotency key, transfer id,
/// request id). When its answer is lost to a fault it is sent again with the same key until it
/// is answered; only an OK answer records it in the ``SoakBook``.
final class SoakWorkload: Sendable {
    /// How long one write is retried before it is left for the end of the run.
    static let retryWindow: Duration = .seconds(30)
    /// The deadline of one attempt.
    static let callTimeout: Duration = .seconds(5)
    /// The asset transferred.
    static let asset = "points"

    let run: String
    let book: SoakBook
    /// Every call goes through the gateway (a replicated suite, whose writes and reads go to the
    /// shards' leaders, which only the gateway follows).
    let gatewayOnly: Bool
    private let connections: SoakConnections
    /// The budget every transfer draws on.
    let budgetAccount: String
    private let counter = Atomic<Int>(0)
    private let users = Mutex<[String]>([])
    /// Writes whose fate is still unknown, to send again once the faults are over.
    private let unsettled = Mutex<[@Sendable () async -> Bool]>([])

    init(run: String, book: SoakBook, connections: SoakConnections, gatewayOnly: Bool = false) {
        self.run = run
        self.book = book
        self.gatewayOnly = gatewayOnly
        self.connections = connections
        budgetAccount = "budget:soak\(run):\(Self.asset)"
    }

    /// Opens the budget account (uncapped); call once before the load.
    func prepare() async throws {
        let request = Retain_V1_OpenAccountRequest(accountId: budgetAccount)
        let opened = await settle("ledger.open", route: serviceRoute("ledger"), window: .seconds(60)) { client, options in
            try await client.unary(Retain_V1_Ledger.openAccount, request, options: options)
        }
        guard opened != nil else { throw SoakError("could not open \(budgetAccount)") }
    }

    /// Runs operations until `isDone` says stop.
    func work(worker: Int, isDone: @Sendable () -> Bool) async {
        var generator = SystemRandomNumberGenerator()
        while !isDone() {
            let n = counter.wrappingAdd(1, ordering: .relaxed).oldValue
            let route: Route = gatewayOnly || Bool.random(using: &generator) ? .gateway : .direct
            let known = users.withLock { $0.isEmpty ? nil : $0.randomElement(using: &generator) }
            guard let user = known, Int.random(in: 0..<100, using: &generator) >= 8 else {
                await register("s\(run)w\(worker)u\(n)", route: route)
                continue
            }
            switch Int.random(in: 0..<100, using: &generator) {
            case 0..<14: await recordActivity(user: user, event: "e\(n)", route: route)
            case 14..<26: await award(user: user, key: "a\(n)", action: n % 3 == 0 ? "sign_up" : "login", route: route)
            case 26..<32: await checkIn(user: "c\(user)", route: route)
            case 32..<52:
                await transfer(
                    id: "t\(run)-\(n)", user: user, amount: Int64.random(in: 1...1_000, using: &generator),
                    route: route)
            case 52..<62: await submitFeedback(user: user, request: "f\(n)", route: route)
            case 62..<66: await resendTransfer(route: route)
            default: await read(user: user, choice: Int.random(in: 0..<4, using: &generator), route: route)
            }
        }
    }

    /// Writes whose answer is still unknown.
    var unsettledCount: Int { unsettled.withLock { $0.count } }

    /// Sends every write still unsettled again (the suite is whole by now); returns how many
    /// stayed unanswered.
    func settleRemaining() async -> Int {
        let pending = unsettled.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        var left = 0
        for write in pending where !(await write()) { left += 1 }
        return left
    }

    // MARK: Writes

    private func register(_ user: String, route: Route) async {
        let request = Retain_V1_RegisterUserRequest(userId: user, requestId: user, channel: "soak")
        await write("profile.register", route: route.to("profile")) { client, options in
            _ = try await client.unary(Retain_V1_Profile.registerUser, request, options: options)
            self.book.acknowledge { _ = $0.users.insert(user) }
            self.users.withLock { $0.append(user) }
        }
    }

    private func recordActivity(user: String, event: String, route: Route) async {
        let request = Retain_V1_RecordActivityRequest(userId: user, eventId: event, kind: "login")
        await write("profile.activity", route: route.to("profile")) { client, options in
            _ = try await client.unary(Retain_V1_Profile.recordActivity, request, options: options)
            self.book.acknowledge { $0.activities[user, default: []].insert(event) }
        }
    }

    private func award(user: String, key: String, action: String, route: Route) async {
        let request = Retain_V1_AwardGrowthRequest(userId: user, action: action, idempotencyKey: key)
        await write("growth.award", route: route.to("growth")) { client, options in
            let answer = try await client.unary(Retain_V1_Growth.awardGrowth, request, options: options)
            self.book.acknowledge { $0.awards["\(user)/\(key)"] = .init(userID: user, key: key, awarded: answer.awardedGrowth) }
        }
    }

    private func checkIn(user: String, route: Route) async {
        let request = Retain_V1_CheckInRequest(userId: user)
        await write("growth.checkin", route: route.to("growth")) { client, options in
            _ = try await client.unary(Retain_V1_Growth.checkIn, request, options: options)
            self.book.acknowledge { _ = $0.checkIns.insert(user) }
        }
    }

    private func transferRequest(id: String, user: String, amount: Int64) -> Retain_V1_CreateTransfersRequest {
        Retain_V1_CreateTransfersRequest(transfers: [
            Retain_V1_Transfer(
                transferId: id, debitAccountId: budgetAccount, creditAccountId: "user:\(user):\(Self.asset)",
                amount: amount, asset: Self.asset, kind: .issue, reason: "soak")
        ])
    }

    private func transfer(id: String, user: String, amount: Int64, route: Route) async {
        let request = transferRequest(id: id, user: user, amount: amount)
        await write("ledger.transfer", route: route.to("ledger")) { client, options in
            let answer = try await client.unary(Retain_V1_Ledger.createTransfers, request, options: options)
            guard let result = answer.results.first, result.code == .ok else {
                throw RPCError(.failedPrecondition, "transfer \(id) refused: \(answer.results.first?.message ?? "no result")")
            }
            self.book.acknowledge { $0.transfers[id] = .init(transferID: id, userID: user, amount: amount) }
        }
    }

    /// Sends an acknowledged transfer again, unchanged: the ledger must answer it as a replay.
    private func resendTransfer(route: Route) async {
        guard let earlier = book.snapshot.transfers.values.randomElement() else { return }
        let request = transferRequest(id: earlier.transferID, user: earlier.userID, amount: earlier.amount)
        _ = await settle("ledger.resend", route: route.to("ledger"), window: Self.retryWindow) { client, options in
            let answer = try await client.unary(Retain_V1_Ledger.createTransfers, request, options: options)
            if let result = answer.results.first, result.code == .ok {
                self.book.replay(of: earlier.transferID, replayed: result.replayed)
            }
        }
    }

    private func submitFeedback(user: String, request id: String, route: Route) async {
        let request = Retain_V1_SubmitFeedbackRequest(
            userId: user, requestId: id, kind: .suggestion, category: "soak",
            text: "soak feedback \(id) from \(user)", channel: "app")
        await write("feedback.submit", route: route.to("feedback")) { client, options in
            let answer = try await client.unary(Retain_V1_Feedback.submitFeedback, request, options: options)
            let item = answer.item?.itemId ?? ""
            self.book.acknowledge { $0.feedback[user, default: [:]][id] = item }
        }
    }

    // MARK: Reads

    private func read(user: String, choice: Int, route: Route) async {
        switch choice {
        case 0:
            _ = await settle("profile.read", route: route.to("profile"), window: .zero) { client, options in
                try await client.unary(Retain_V1_Profile.getProfile, .init(userId: user), options: options)
            }
        case 1:
            _ = await settle("ledger.read", route: route.to("ledger"), window: .zero) { client, options in
                try await client.unary(Retain_V1_Ledger.getBalance, .init(userId: user), options: options)
            }
        case 2:
            _ = await settle("growth.read", route: route.to("growth"), window: .zero) { client, options in
                try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: user), options: options)
            }
        default:
            _ = await settle("feedback.read", route: route.to("feedback"), window: .zero) { client, options in
                try await client.unary(Retain_V1_Feedback.getUserFeedbackHistory, .init(userId: user), options: options)
            }
        }
    }

    // MARK: Calls

    /// Where a call goes: through the gateway, or straight to a service.
    enum Route: Sendable {
        case gateway
        case direct
        case service(String)

        /// `.direct` resolved to service `name`.
        func to(_ name: String) -> Route {
            switch self {
            case .direct: .service(name)
            default: self
            }
        }
    }

    /// The route that reaches service `name` for checks and set-up: straight to it, or through
    /// the gateway when every call goes there.
    func serviceRoute(_ name: String) -> Route {
        gatewayOnly ? .gateway : .service(name)
    }

    /// Sends a write until it is answered, within the retry window; a write still unanswered
    /// then is kept to be sent again at the end.
    private func write(_ kind: String, route: Route, _ call: @escaping @Sendable (RPCClient, CallOptions) async throws -> Void) async {
        let settled = await settle(kind, route: route, window: Self.retryWindow, isWrite: true, call)
        if settled == nil {
            unsettled.withLock { pending in
                pending.append { [self] in
                    await self.settle(kind + ".final", route: route, window: .seconds(60), isWrite: true, call) != nil
                }
            }
        }
    }

    /// Calls `call` until it answers OK, or fails with a status that is the service's answer
    /// (not a fault's), or `window` has passed; counts every attempt, and tells the book when
    /// an attempt at a write (`isWrite`) was answered OK (failover times). Nil unless answered OK.
    @discardableResult
    func settle<Answer: Sendable>(
        _ kind: String, route: Route, window: Duration, isWrite: Bool = false,
        _ call: @Sendable (RPCClient, CallOptions) async throws -> Answer
    ) async -> Answer? {
        let until = ContinuousClock.now + window
        var pause: Duration = .milliseconds(50)
        let key = "\(kind)-\(counter.wrappingAdd(1, ordering: .relaxed).oldValue)"
        while true {
            let client =
                switch route {
                case .gateway, .direct: connections.gateway
                case .service(let name): connections.service(name)
                }
            let sentAt = ContinuousClock.now
            do {
                let answer = try await call(client, CallOptions(timeout: Self.callTimeout, idempotencyKey: key))
                book.count(kind, "OK")
                if isWrite { book.writeAcknowledged(service: String(kind.prefix { $0 != "." }), sentAt: sentAt) }
                return answer
            } catch let error as RPCError {
                book.count(kind, error.code.name)
                guard Self.isFault(error.code), ContinuousClock.now + pause < until else { return nil }
            } catch {
                book.count(kind, "CLIENT_ERROR")
                guard ContinuousClock.now + pause < until else { return nil }
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(1))
        }
    }

    /// Whether `code` may come from a fault (a process down, a connection cut) rather than from
    /// the service's decision, so that the write may have been applied or not.
    static func isFault(_ code: RPCStatusCode) -> Bool {
        [.unavailable, .deadlineExceeded, .cancelled, .unknown, .internal, .resourceExhausted, .aborted].contains(code)
    }
}

/// The soak could not run or verify.
struct SoakError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
