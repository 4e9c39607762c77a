public import Logging
public import RetainClock
import RetainAuth
import RetainProto
public import RetainRPC
public import RetainRuleSets
public import RetainState
import RetainWire

/// The retain.v1.RuleSets methods a service serves for its own rule set, the same for every
/// service: reads from the state's ``RuleSetHistory``, writes through the state's one write
/// path (the version is a log entry of the service's own log), admin-only writes checked by the
/// RPC runtime (RetainAuth's MethodAccessTable). docs/CONFIG.md.
public struct RuleSetMethods<State: RuleSetKeeping>: Sendable {
    /// The service's name in requests' `service` field, e.g. "growth".
    public let service: String
    let store: StateStore<State>
    let clock: ServiceClock

    public init(service: String, store: StateStore<State>, clock: ServiceClock = .system) {
        self.service = service
        self.store = store
        self.clock = clock
    }

    /// Registers the four methods on `router`.
    public func register(on router: inout RPCRouter) {
        let methods = self
        let store = store
        let clock = clock
        router.read(Retain_V1_RuleSets.getRuleSet, from: store) { request, _, state in
            try methods.check(request.service, request.ruleSet)
            return try RuleSetError.mapped {
                let history = state.ruleSets
                let version: Retain_V1_RuleSetVersion
                if request.version != 0 {
                    guard let found = history.version(request.version) else {
                        throw RuleSetError.versionNotFound(ruleSet: history.name, version: request.version)
                    }
                    version = found
                } else {
                    let at = request.atMs == 0 ? clock.now() : request.atMs
                    guard let found = history.inForce(at: at) else { throw RuleSetError.noVersion(ruleSet: history.name, atMs: at) }
                    version = found
                }
                return Retain_V1_GetRuleSetResponse(version: version, latestVersion: history.latest?.version ?? 0)
            }
        }
        router.read(Retain_V1_RuleSets.listRuleSetVersions, from: store) { request, _, state in
            try methods.check(request.service, request.ruleSet)
            let history = state.ruleSets
            var versions = history.versions
            if !request.includeDocuments {
                for index in versions.indices { versions[index].document = [] }
            }
            return Retain_V1_ListRuleSetVersionsResponse(
                versions: versions, inForceVersion: history.inForce(at: clock.now())?.version ?? 0)
        }
        router.write(Retain_V1_RuleSets.setRuleSet, to: store) { request, context, transaction in
            try methods.check(request.service, request.ruleSet)
            let now = clock.now()
            let plan = try RuleSetError.mapped {
                try transaction.withState { state in
                    try state.ruleSets.planSet(
                        document: request.document, author: Self.author(context), reason: request.reason,
                        effectiveFromMs: request.effectiveFromMs, now: now)
                }
            }
            if !request.dryRun, case .add(let version) = plan {
                try transaction.log(transaction.withState { $0.ruleSetEntry(version) })
            }
            return Retain_V1_SetRuleSetResponse(version: plan.version, dryRun: request.dryRun)
        }
        router.write(Retain_V1_RuleSets.rollbackRuleSet, to: store) { request, context, transaction in
            try methods.check(request.service, request.ruleSet)
            let now = clock.now()
            let version = try RuleSetError.mapped {
                try transaction.withState { state in
                    try state.ruleSets.planRollback(
                        to: request.toVersion, author: Self.author(context), reason: request.reason,
                        effectiveFromMs: request.effectiveFromMs, now: now)
                }
            }
            try transaction.log(transaction.withState { $0.ruleSetEntry(version) })
            return Retain_V1_RollbackRuleSetResponse(version: version)
        }
    }

    /// Refuses a call meant for another service or rule set ("" names this service's one).
    func check(_ service: String, _ ruleSet: String) throws(RPCError) {
        guard service.isEmpty || service == self.service else {
            throw RPCError.invalidArgument(field: "service", "'\(service)' is not this service (\(self.service))")
        }
        guard ruleSet.isEmpty || ruleSet == State.Rules.ruleSetName else {
            throw RPCError.invalidArgument(
                field: "rule_set", "'\(ruleSet)' is not a rule set of \(self.service) (expected \(State.Rules.ruleSetName))")
        }
    }

    /// Who writes: the caller's key id (through the gateway, the subject of the token it minted
    /// for the caller); "anonymous" when the process checks no credentials.
    static func author(_ context: ServerContext) -> String {
        context.caller?.id ?? "anonymous"
    }

    // MARK: The configuration file's version

    /// Makes the configuration file's document version 1 of an empty history (author "file",
    /// reason `origin`); with stored versions, keeps them and logs at notice level when the
    /// file differs from the version in force. On a replicated shard only the leader writes, so
    /// call it when the process becomes leader too.
    public func seed(document: [UInt8], origin: String, logger: Logger) throws {
        let now = clock.now()
        let first: Retain_V1_RuleSetVersion? = try store.read { state in
            let history = state.ruleSets
            guard history.isEmpty else {
                let canonical = (try? RuleSetDocument.canonical(document)) ?? document
                if let inForce = history.inForce(at: history.decisionTime(now: now)), inForce.document != canonical {
                    logger.notice(
                        "the configuration file differs from the stored rule set; the stored history wins (change it with `retain config set`)",
                        metadata: [
                            "rule_set": "\(history.name)", "file": "\(origin)", "version_in_force": "\(inForce.version)",
                        ])
                }
                return nil
            }
            return try RuleSetError.mapped { try history.planFirst(document: document, reason: origin, now: now) }
        }
        guard let first else { return }
        _ = try store.write { transaction in
            // Another writer may have stored version 1 meanwhile: then there is nothing to do.
            guard transaction.withState({ $0.ruleSets.isEmpty }) else { return }
            try transaction.log(transaction.withState { $0.ruleSetEntry(first) })
        }
        logger.info(
            "configuration file stored as rule set version 1",
            metadata: ["rule_set": "\(State.Rules.ruleSetName)", "file": "\(origin)"])
    }
}
