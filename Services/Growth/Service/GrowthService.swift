import Foundation
public import GrowthCore
import Logging
public import RetainClock
import RetainMoves
import RetainProto
import RetainRuleSets
import RetainServiceKit
public import RetainRPC
public import RetainState
import RetainWire

/// The Growth service's RPC adapter: validates requests, resolves times, runs the domain's
/// decisions under the state lock and answers once their log entries are durable.
public struct GrowthService: Sendable {
    /// How the service treats client times and idle streams.
    public struct Configuration: Sendable {
        /// Honour client-supplied times however far from the server's clock (tests and the
        /// demo). Default false.
        public var allowClientTimes = false
        /// How far a client time may be from the server's clock. Default 5 minutes: later times
        /// are INVALID_ARGUMENT, earlier ones are replaced by the server's clock.
        public var clockSkewMs: Int64 = 300_000
        /// Heartbeat interval of an idle WatchLevelChanges stream. Default 10 s.
        public var heartbeatInterval: Duration = .seconds(10)
        /// Where the configuration's rules came from: the reason of rule-set version 1 on an
        /// empty data directory. Default "built-in standard rules".
        public var rulesOrigin = "built-in standard rules"

        public init() {}
    }

    let store: StateStore<GrowthState>
    /// The configuration file's rules: stored as rule-set version 1 on an empty data directory,
    /// and used only until a version is in force (a replica that has not caught up).
    let fileRules: GrowthRules
    let notifier: LevelEventNotifier
    let configuration: Configuration
    let clock: ServiceClock

    /// Prepares the service on a recovered store: starts the event log and stores `rules` as
    /// rule-set version 1 if the data directory is new (on the leader, when replicated), and sets
    /// the notifier's head to the newest recovered event.
    ///
    /// - Parameter clock: the server's clock; tests may drive it.
    public init(
        store: StateStore<GrowthState>, rules: GrowthRules, notifier: LevelEventNotifier,
        configuration: Configuration = Configuration(),
        clock: ServiceClock = .system
    ) throws {
        self.store = store
        self.fileRules = rules
        self.notifier = notifier
        self.configuration = configuration
        self.clock = clock
        if let gate = store.commitGate {
            // Replicated: the stream starts on the shard's first leader; each new leader takes
            // over the stream where the log has it.
            gate.onRoleChange { role in
                guard case .leader = role else { return }
                try? Self.startStream(store, clock: clock)
                try? Self.seedRules(store, rules: rules, origin: configuration.rulesOrigin, clock: clock)
                notifier.advance(to: store.read { $0.headPosition })
            }
        } else {
            try Self.startStream(store, clock: clock)
            try Self.seedRules(store, rules: rules, origin: configuration.rulesOrigin, clock: clock)
        }
        notifier.advance(to: store.read { $0.headPosition })
    }

    /// Starts the level-change stream on an empty state (it is named once, for good).
    private static func startStream(_ store: StateStore<GrowthState>, clock: ServiceClock) throws {
        if store.read({ $0.streamID.isEmpty }) {
            let started = Retain_V1_GrowthStreamStarted(streamId: UUID().uuidString.lowercased(), atMs: clock.now())
            _ = try GrowthError.mapped { try store.write { try $0.log(Retain_V1_GrowthLogEntry(streamStarted: started)) } }
        }
    }

    /// Stores the configuration's rules as rule-set version 1 of an empty history; with stored
    /// versions, they win (a notice says so when the file differs).
    private static func seedRules(_ store: StateStore<GrowthState>, rules: GrowthRules, origin: String, clock: ServiceClock) throws {
        try RuleSetMethods(service: "growth", store: store, clock: clock)
            .seed(document: rules.document, origin: origin, logger: Logger(label: "retain.growth"))
    }

    /// Every Growth method, the RuleSets methods of the growth rules, and the Resharding
    /// methods of a Growth shard.
    public var router: RPCRouter {
        var router = RPCRouter()
        let fileRules = fileRules
        let store = store
        let clock = clock

        router.read(Retain_V1_Growth.getLevelTiers, from: store) { _, _, state in
            let rules = state.rules(now: clock.now(), fallback: fileRules)
            return Retain_V1_GetLevelTiersResponse(tiers: rules.tiers, configVersion: rules.version)
        }

        write(Retain_V1_Growth.awardGrowth, into: &router, position: \.levelEventPosition) { request, now in
            try GrowthRequestValidation.award(request)
            let at = try writeTime(request.occurredAtMs, field: "occurred_at_ms", now: now)
            return { state in try state.planAward(request, at: at, now: now, rules: state.rules(now: now, fallback: fileRules)) }
        }

        write(Retain_V1_Growth.checkIn, into: &router, position: \.levelEventPosition) { request, now in
            try GrowthRequestValidation.checkIn(request)
            let at = try writeTime(request.atMs, field: "at_ms", now: now)
            return { state in try state.planCheckIn(request, at: at, now: now, rules: state.rules(now: now, fallback: fileRules)) }
        }

        write(Retain_V1_Growth.claimTaskReward, into: &router, position: { _ in 0 }) { request, now in
            try GrowthRequestValidation.claim(request)
            let at = try writeTime(request.atMs, field: "at_ms", now: now)
            return { state in try state.planClaim(request, at: at, rules: state.rules(now: now, fallback: fileRules)) }
        }

        router.unaryGated(Retain_V1_Growth.listTasks) { request, _ in
            try GrowthRequestValidation.listTasks(request)
            let at = try readTime(request.atMs, field: "at_ms")
            let (tasks, gate) = try store.readForAnswer { state in
                try GrowthError.mapped { try state.refuseIfMoved(request.userId) }
                return state.tasks(
                    userID: request.userId, timeZone: request.timeZone, at: at, rules: state.rules(now: clock.now(), fallback: fileRules))
            }
            return (Retain_V1_ListTasksResponse(tasks: tasks), gate)
        }

        router.unaryGated(Retain_V1_Growth.getGrowthView) { request, _ in
            try GrowthRequestValidation.view(request)
            let at = try readTime(request.atMs, field: "at_ms")
            return try store.readForAnswer { state in
                try GrowthError.mapped { try state.refuseIfMoved(request.userId) }
                return state.view(
                    userID: request.userId, timeZone: request.timeZone, at: at, rules: state.rules(now: clock.now(), fallback: fileRules),
                    fallback: fileRules)
            }
        }

        router.unaryGated(Retain_V1_Growth.getLevels) { request, _ in
            try GrowthRequestValidation.levels(request)
            return try store.readForAnswer { state in
                // A user fenced here moved (or is moving) to another shard: refused, as every
                // read about one user is, rather than answered with what this shard no longer owns.
                try GrowthError.mapped { for id in request.userIds { try state.refuseIfMoved(id) } }
                // Levels as of T by the tiers in force at T.
                let asOf = request.asOfMs == 0 ? nil : request.asOfMs
                let rules = state.rules(now: asOf ?? clock.now(), fallback: fileRules)
                return Retain_V1_GetLevelsResponse(levels: state.levels(userIDs: request.userIds, asOf: asOf, rules: rules))
            }
        }

        router.unaryGated(Retain_V1_Growth.getLevelDistribution) { request, context in
            guard request.asOfMs >= 0 else { throw RPCError.invalidArgument(field: "as_of_ms", "must not be negative") }
            let version = context.ringVersion
            return try store.readForAnswer { state in
                try GrowthError.mapped { try state.refuseReport(ringVersion: version) }
                // Levels as of T by the tiers in force at T, as GetLevels.
                let asOf = request.asOfMs == 0 ? nil : request.asOfMs
                return state.levelDistribution(asOf: asOf, rules: state.rules(now: asOf ?? clock.now(), fallback: fileRules))
            }
        }

        router.unaryGated(Retain_V1_Growth.getGrowthSummary) { request, _ in
            try GrowthRequestValidation.summary(request)
            let range = request.range!
            return try store.readForAnswer { state in
                try GrowthError.mapped { try state.refuseIfMoved(request.userId) }
                return state.summary(
                    userID: request.userId, startMs: range.startMs, endMs: range.endMs,
                    timeZone: request.timeZone, rules: state.rules(now: clock.now(), fallback: fileRules))
            }
        }

        router.unaryGated(Retain_V1_Growth.getLeaderboard) { request, context in
            let board = try GrowthRequestValidation.board(request.board, field: "board")
            let limit = try GrowthRequestValidation.count(request.limit, field: "limit", default: 10, range: 1...1000)
            let at = try readTime(request.atMs, field: "at_ms")
            let version = context.ringVersion
            return try store.readForAnswer { state in
                try GrowthError.mapped { try state.refuseReport(ringVersion: version) }
                return state.leaderboard(board, limit: limit, at: at, rules: state.rules(now: clock.now(), fallback: fileRules))
            }
        }

        router.unaryGated(Retain_V1_Growth.getRank) { request, _ in
            try FieldFormat.requireEntityID(request.userId, field: "user_id")
            let board = try GrowthRequestValidation.board(request.board, field: "board")
            let neighbours = try GrowthRequestValidation.count(request.neighbours, field: "neighbours", default: 2, range: 1...50)
            let at = try readTime(request.atMs, field: "at_ms")
            return try store.readForAnswer { state in
                try GrowthError.mapped { try state.refuseIfMoved(request.userId) }
                return state.rank(
                    userID: request.userId, board, neighbours: neighbours, at: at, rules: state.rules(now: clock.now(), fallback: fileRules)
                )
            }
        }

        router.unaryGated(Retain_V1_Growth.getBoardPosition) { request, context in
            let board = try GrowthRequestValidation.board(request.board, field: "board")
            if !request.userId.isEmpty { try FieldFormat.requireEntityID(request.userId, field: "user_id") }
            guard request.neighbours <= GrowthRequestValidation.maximumBoardNeighbours else {
                throw RPCError.invalidArgument(
                    field: "neighbours", "must be 0 to \(GrowthRequestValidation.maximumBoardNeighbours), not \(request.neighbours)")
            }
            let at = try readTime(request.atMs, field: "at_ms")
            let version = context.ringVersion
            return try store.readForAnswer { state in
                try GrowthError.mapped { try state.refuseReport(ringVersion: version) }
                return state.boardPosition(
                    board, score: request.score, reachedAtMs: request.reachedAtMs, userID: request.userId,
                    neighbours: Int(request.neighbours), at: at, rules: state.rules(now: clock.now(), fallback: fileRules))
            }
        }

        router.serverStreaming(Retain_V1_Growth.watchLevelChanges) { request, _, writer in
            try await watch(request, writer)
        }
        RuleSetMethods(service: "growth", store: store, clock: clock).register(on: &router)
        ReshardingMethods(store: store) { moves in
            Retain_V1_GrowthLogEntry(
                usersMoved: .init(
                    imported: moves.imported, fenced: moves.fenced, unfenced: moves.unfenced, dropped: moves.dropped,
                    ringVersion: moves.ringVersion, discarded: moves.discarded))
        }.register(on: &router)
        return router
    }

    // MARK: Writes

    /// Registers a write: `prepare` validates the request outside the lock and returns the
    /// decision to take under it; a changed decision is logged, and the answer goes out once
    /// durable, after the notifier learned of any level-change event it made. The domain's
    /// refusals answer with their status (``GrowthError/status``).
    private func write<I, O>(
        _ method: RPCMethod<I, O>, into router: inout RPCRouter, position: @escaping @Sendable (O) -> UInt64,
        _ prepare: @escaping @Sendable (I, Int64) throws -> (borrowing GrowthState) throws -> GrowthDecision<O>
    ) {
        let store = store
        let notifier = notifier
        let clock = clock
        router.unaryDeferred(method) { request, _, responder in
            let decide = try prepare(request, clock.now())
            try store.write(
                answering: responder,
                { transaction in
                    try GrowthError.mapped {
                        let decision = try decide(transaction.state)
                        if case .changed(let entry, _) = decision { try transaction.log(entry) }
                        return decision.answer
                    }
                }
            ) { answer in
                notifier.advance(to: position(answer))
                responder.succeed(answer)
            }
        }
    }

    /// The time a write counts at: 0 is now; a time beyond the clock skew allowance in the
    /// future is refused, one further in the past is replaced by now (unless client times are
    /// allowed).
    private func writeTime(_ requested: Int64, field: String, now: Int64) throws -> Int64 {
        guard requested >= 0 else { throw RPCError.invalidArgument(field: field, "must not be negative") }
        if requested == 0 || configuration.allowClientTimes { return requested == 0 ? now : requested }
        if requested > now + configuration.clockSkewMs {
            throw RPCError.invalidArgument(
                field: field, "is \(requested - now) ms ahead of the server's clock (allowed: \(configuration.clockSkewMs) ms)")
        }
        return requested < now - configuration.clockSkewMs ? now : requested
    }

    /// The time a read looks at: 0 is now; any other time is honoured.
    private func readTime(_ requested: Int64, field: String) throws -> Int64 {
        guard requested >= 0 else { throw RPCError.invalidArgument(field: field, "must not be negative") }
        return requested == 0 ? clock.now() : requested
    }
}
