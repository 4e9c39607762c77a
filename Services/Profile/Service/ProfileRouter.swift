import Foundation
import Logging
public import ProfileCore
public import RetainClock
import RetainMoves
import RetainProto
public import RetainRPC
import RetainRuleSets
public import RetainState
import RetainServiceKit

/// Builds the `retain.v1.Profile` router on a state store: validates each request, asks the
/// domain (``ProfileState``) what it means, logs the resulting entry and answers once it is
/// durable. Reads run inline on the event loop.
public struct ProfileRouter: Sendable {
    let store: StateStore<ProfileState>
    let configuration: ProfileConfiguration
    /// The configuration file's lifecycle thresholds: used only until rule-set version 1 is
    /// stored (every call reads the version in force from the state).
    let evaluator: LifecycleEvaluator
    let defaultPolicy: Retain_V1_ContactPolicy
    let clock: ServiceClock

    /// - Parameters:
    ///   - store: The opened store (see ``prepare(_:configuration:)``).
    ///   - configuration: The validated configuration.
    ///   - clock: Where "now" comes from (tests pass their own).
    public init(
        store: StateStore<ProfileState>, configuration: ProfileConfiguration,
        clock: ServiceClock = .system
    ) {
        self.store = store
        self.configuration = configuration
        self.evaluator = LifecycleEvaluator(rules: configuration.lifecycle)
        self.defaultPolicy = configuration.defaultPolicy
        self.clock = clock
    }

    /// Fixes the store's activity time zone to the configured one on first start (throws when
    /// the data was recorded in another zone), and logs the configured activation definition
    /// when it differs from the stored one.
    /// Stores the file's lifecycle thresholds as rule-set version 1 of an empty history (with
    /// stored versions, they win; a notice says so when the file differs); `origin` names the file.
    /// A replicated store does it each time this process becomes the shard's leader (a replica
    /// holds the leader's settings); a conflict is then logged, since the process already serves.
    public static func prepare(
        _ store: StateStore<ProfileState>, configuration: ProfileConfiguration, origin: String = "built-in standard rules",
        clock: ServiceClock = .system
    ) throws {
        let rules = RuleSetMethods(service: "profile", store: store, clock: clock)
        // The file holds no experiments (they are defined while the suite runs): it is compared
        // with the stored rules together with the experiments they define.
        let document: @Sendable () -> [UInt8] = {
            let experiments = store.read { $0.ruleSets.rules(at: $0.ruleSets.decisionTime(now: clock.now()))?.experiments } ?? [:]
            return ProfileRules(lifecycle: configuration.lifecycle, experiments: experiments).document
        }
        let logger = Logger(label: "retain.profile")
        if let gate = store.commitGate {
            gate.onRoleChange { role in
                guard case .leader = role else { return }
                do {
                    try fixSettings(store, configuration: configuration)
                    try rules.seed(document: document(), origin: origin, logger: logger)
                } catch {
                    logger.critical("the shard's settings conflict with this configuration: \(error)")
                }
            }
            return
        }
        try fixSettings(store, configuration: configuration)
        try rules.seed(document: document(), origin: origin, logger: logger)
    }

    private static func fixSettings(_ store: StateStore<ProfileState>, configuration: ProfileConfiguration) throws {
        _ = try store.write { transaction in
            try ProfileError.mapped {
                if let entry = try transaction.state.planSettings(
                    activityTimeZone: configuration.activityTimeZone, activation: configuration.activation)
                {
                    try transaction.log(entry)
                }
            }
        }
    }

    /// The router with every Profile method, retain.v1.RuleSets, and retain.v1.Resharding for
    /// moving its users to another shard (a fenced user's calls and reports for another ring
    /// are refused, docs/CLUSTER.md).
    public func router() -> RPCRouter {
        var router = RPCRouter()
        registerUserMethods(&router)
        registerActivityMethods(&router)
        registerAnalyticsMethods(&router)
        registerContactMethods(&router)
        registerCampaignMethods(&router)
        RuleSetMethods(service: "profile", store: store, clock: clock).register(on: &router)
        ReshardingMethods(store: store) { moves in
            Retain_V1_ProfileLogEntry(usersMoved: Retain_V1_UsersMoved(moves, userID: ProfileState.userID(of:)))
        }.register(on: &router)
        registerSavedSegmentMethods(&router)
        return router
    }

    /// A validator for a request arriving now.
    func validator(now: Int64) -> RequestValidator {
        RequestValidator(now: now, maximumClockSkew: configuration.maxClockSkewMs)
    }
}

/// Makes the ids of users registered without one: "u_" and 26 base-32 characters (130 random bits).
enum UserIDGenerator {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = Array("u_".utf8)
        for _ in 0..<26 { bytes.append(alphabet[Int(generator.next() & 31)]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
