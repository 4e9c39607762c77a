import GatewayCore
public import Logging
public import RetainFlowRules
import RetainProto
import RetainRPC
import RetainRuleSets
import Synchronization

/// The rewards the flows pay, as every gateway reads them: the version in force of the Ledger's
/// "flows" rule set (retain.v1.RuleSets; docs/GATEWAY.md says why the ledger keeps them).
///
/// The gateway is stateless, so it asks the ledger, through its own routing, for the version in
/// force and keeps it for ``Configuration/refresh``; a flow call after that asks again and
/// compiles the document only when the version changed. While the ledger has no version, the
/// gateway stores its configuration file as version 1 (once); while the ledger cannot be asked,
/// flows pay by the last version read, or by the file before any was.
public final class FlowRulesSource: Sendable {
    /// How often the version in force is checked.
    public struct Configuration: Sendable {
        /// How long a version read from the ledger is used before asking again. Default 1 s.
        public var refresh: Duration = .seconds(1)
        /// The reason stored with version 1 when the gateway stores its file.
        public var origin = "the gateway's built-in flows"

        public init() {}
    }

    private struct Cached: Sendable {
        let version: Retain_V1_RuleSetVersion
        let rules: FlowConfiguration
        let fetchedAt: ContinuousClock.Instant
    }

    private let forwarder: Forwarder
    /// The configuration file's rules.
    public let fallback: FlowConfiguration
    private let configuration: Configuration
    private let logger: Logger
    private let cached = Mutex<Cached?>(nil)

    public init(forwarder: Forwarder, fallback: FlowConfiguration, configuration: Configuration = Configuration(), logger: Logger) {
        self.forwarder = forwarder
        self.fallback = fallback
        self.configuration = configuration
        self.logger = logger
    }

    /// The rules a flow call pays by now.
    public func current() async -> FlowConfiguration {
        let last = cached.withLock { $0 }
        if let last, ContinuousClock.now - last.fetchedAt < configuration.refresh { return last.rules }
        let backend = GatewayFlowBackend(
            forwarder: forwarder, deadline: .now + .seconds(5), options: CallOptions(traceID: TraceIDs.next()))
        do {
            let answer = try await backend.call(
                Retain_V1_RuleSets.getRuleSet, Retain_V1_GetRuleSetRequest(service: "ledger", ruleSet: "flows"), .read)
            let version = answer.version ?? Retain_V1_RuleSetVersion()
            let rules: FlowConfiguration
            if let last, last.version.version == version.version, last.version.createdAtMs == version.createdAtMs {
                rules = last.rules
            } else {
                rules = try FlowConfiguration(ruleSetDocument: version.document)
                logger.info("flow rules in force", metadata: ["version": "\(version.version)", "reason": "\(version.reason)"])
            }
            cached.withLock { $0 = Cached(version: version, rules: rules, fetchedAt: .now) }
            return rules
        } catch let failure as BackendFailure where failure.reason == .notFound {
            await storeFile(backend)
        } catch {
            logger.warning("cannot read the flow rules from the ledger; paying by the last known", metadata: ["error": "\(error)"])
        }
        return last?.rules ?? fallback
    }

    /// Stores the file's rules as the ledger's version 1 (the ledger keeps no other: setting the
    /// same document again stores nothing, so gateways starting together store it once).
    private func storeFile(_ backend: GatewayFlowBackend) async {
        do {
            let stored = try await backend.call(
                Retain_V1_RuleSets.setRuleSet,
                Retain_V1_SetRuleSetRequest(service: "ledger", ruleSet: "flows", document: fallback.document, reason: configuration.origin),
                .admin(key: ""))
            logger.info("the flows configuration stored as the ledger's rule set", metadata: ["version": "\(stored.version?.version ?? 0)"])
        } catch {
            logger.warning("cannot store the flows configuration in the ledger", metadata: ["error": "\(error)"])
        }
    }
}
