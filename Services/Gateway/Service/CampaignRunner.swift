public import GatewayCore
public import RetainFlowRules
public import Logging
public import RetainClock
import RetainProto
import RetainRPC
import RetainWire
public import ServiceLifecycle

/// Runs the recall campaigns Profile keeps (docs/CAMPAIGNS.md): every `interval` it lists them,
/// touches the treated members that are due (TouchCampaignMembers on every shard, which picks
/// the cheapest channel the contact caps allow), and pays the return reward of each treated
/// member who came back, once, through the ledger (``CampaignRewards``).
///
/// The gateway keeps no state: after a start it reads each shard's returns from the first and
/// pays only what the ledger does not hold yet (one LookupTransfers per 1,000). Several gateways
/// may run it at once: touches are decided by Profile under its caps, rewards by transfer id.
public struct CampaignRunner: Service {
    /// How the runner behaves.
    public struct Configuration: Sendable {
        /// Time between rounds. Default 10 s.
        public var interval: Duration = .seconds(10)
        /// Touches asked of each shard per call, and calls per campaign per round. Defaults 1,000
        /// and 20.
        public var touchesPerCall: UInt32 = 1_000
        public var touchCallsPerRound = 20
        /// Returns read per call. Default 1,000.
        public var returnsPerCall: UInt32 = 1_000
        /// Deadline of each call. Default 30 s.
        public var callTimeout: Duration = .seconds(30)

        public init() {}
    }

    static let profile = "retain.v1.Profile"

    let forwarder: Forwarder
    let flows: FlowConfiguration
    let configuration: Configuration
    let clock: ServiceClock
    let logger: Logger

    public init(
        forwarder: Forwarder, flows: FlowConfiguration, configuration: Configuration = Configuration(),
        clock: ServiceClock = .system, logger: Logger
    ) {
        self.forwarder = forwarder
        self.flows = flows
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// Runs rounds until graceful shutdown or cancellation. It never ends on its own (a service
    /// whose `run` returns ends the gateway's service group): without a Profile backend a round
    /// does nothing, and one that appears later (a shard named by etcd) is served from then on.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var cursors = ReturnCursors()
            while !Task.isCancelled {
                do {
                    try await round(&cursors)
                } catch is CancellationError {
                    return
                } catch {
                    logger.debug("campaign round interrupted", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: configuration.interval)
            }
        }
    }

    /// Where the runner has paid up to, per (Profile instance, campaign): returns at or before
    /// the position are paid. Lost at a restart, which then reads from the first return.
    struct ReturnCursors {
        var positions: [String: UInt64] = [:]

        static func key(instance: String, campaign: String) -> String { "\(instance)\u{0}\(campaign)" }
    }

    /// One round over every campaign.
    func round(_ cursors: inout ReturnCursors) async throws {
        guard forwarder.services[Self.profile] != nil else { return }
        let backend = flowBackend()
        let campaigns = try await backend.call(Retain_V1_Profile.listCampaigns, Retain_V1_ListCampaignsRequest(), .read).campaigns
        let now = clock.now()
        for status in campaigns {
            guard let campaign = status.campaign else { continue }
            if !status.cancelled, now >= campaign.startAtMs, now < campaign.endAtMs {
                if !status.enrolled, !campaign.segment.isEmpty { try await enrollAudience(campaign) }
                try await touch(campaign)
            }
            if let reward = campaign.reward, reward.value > 0, status.returned > 0 {
                try await payReturns(campaign, cursors: &cursors)
            }
        }
    }

    /// Enrolls the members of the campaign's saved segment as of its start, page by page (each
    /// page split by owner; enrolling a member twice changes nothing, so an interrupted round is
    /// simply done again), then marks the campaign enrolled.
    private func enrollAudience(_ campaign: Retain_V1_Campaign) async throws {
        let source = SavedSegmentBackend(
            forwarder: forwarder, deadline: .now + configuration.callTimeout, options: CallOptions(traceID: TraceIDs.next()))
        var enrolled = 0
        try await SavedSegmentEvaluation(source: source).forEachPage(campaign.segment, asOf: campaign.startAtMs, now: clock.now()) {
            members in
            let users = members.map(\.userId)
            _ = try await flowBackend().call(
                Retain_V1_Profile.enrollCampaignMembers,
                Retain_V1_EnrollCampaignMembersRequest(campaignId: campaign.campaignId, userIds: users),
                .admin(key: "campaign-enroll:\(campaign.campaignId):\(users[0])"))
            enrolled += users.count
        }
        _ = try await flowBackend().call(
            Retain_V1_Profile.markCampaignEnrolled, Retain_V1_MarkCampaignEnrolledRequest(campaignId: campaign.campaignId),
            .admin(key: "campaign-enrolled:\(campaign.campaignId)"))
        logger.info(
            "campaign audience enrolled",
            metadata: ["campaign": "\(campaign.campaignId)", "segment": "\(campaign.segment)", "members": "\(enrolled)"])
    }

    /// Touches the members due a touch, a bounded number of calls per round.
    private func touch(_ campaign: Retain_V1_Campaign) async throws {
        for _ in 0..<configuration.touchCallsPerRound {
            let answer = try await flowBackend().call(
                Retain_V1_Profile.touchCampaignMembers,
                Retain_V1_TouchCampaignMembersRequest(campaignId: campaign.campaignId, limit: configuration.touchesPerCall),
                .admin(key: "campaign-touch:\(campaign.campaignId):\(TraceIDs.next())"))
            if answer.touched > 0 || answer.refused > 0 {
                logger.info(
                    "campaign touches",
                    metadata: ["campaign": "\(campaign.campaignId)", "touched": "\(answer.touched)", "refused": "\(answer.refused)"])
            }
            guard answer.more else { return }
        }
    }

    /// Pays the returns of `campaign` on every Profile instance after its cursor.
    private func payReturns(_ campaign: Retain_V1_Campaign, cursors: inout ReturnCursors) async throws {
        for instance in forwarder.services[Self.profile]?.backends ?? [] {
            guard let endpoint = instance.endpoint else { continue }
            let key = ReturnCursors.key(instance: instance.id, campaign: campaign.campaignId)
            while true {
                let after = cursors.positions[key] ?? 0
                let page = try await endpoint.client.unary(
                    Retain_V1_Profile.listCampaignReturns,
                    Retain_V1_ListCampaignReturnsRequest(
                        campaignId: campaign.campaignId, afterPosition: after, limit: configuration.returnsPerCall),
                    options: CallOptions(timeout: configuration.callTimeout, traceID: TraceIDs.next()))
                if page.headPosition < after {
                    // Another data directory answers under this instance: start over (the ledger
                    // knows what is paid).
                    cursors.positions[key] = 0
                    continue
                }
                guard let last = page.returns.last else { break }
                let outcome = try await CampaignRewards(backend: flowBackend(), configuration: flows).pay(page.returns, of: campaign)
                if !outcome.paid.isEmpty {
                    logger.info(
                        "campaign rewards paid",
                        metadata: [
                            "campaign": "\(campaign.campaignId)", "instance": "\(instance.id)", "transfers": "\(outcome.paid.count)",
                        ])
                }
                cursors.positions[key] = last.position
            }
        }
    }

    private func flowBackend() -> GatewayFlowBackend {
        GatewayFlowBackend(
            forwarder: forwarder, deadline: .now + configuration.callTimeout, options: CallOptions(traceID: TraceIDs.next()))
    }
}
