public import RetainFlowRules
public import RetainProto

/// Pays the return rewards of a recall campaign: each treated member who came back (a
/// ``Retain_V1_CampaignReturn`` from a Profile shard) gets the campaign's reward once, as
/// transfer `campaign:<campaign id>:<user id>` (``FlowKeys/campaignTransfer(campaign:user:)``)
/// from the campaign's budget, whichever gateway and however many retries pay it.
public struct CampaignRewards: Sendable {
    let backend: any FlowBackend
    let configuration: FlowConfiguration

    public init(backend: any FlowBackend, configuration: FlowConfiguration) {
        self.backend = backend
        self.configuration = configuration
    }

    /// The transfers `returns` call for, in order; none when the campaign has no reward.
    public static func transfers(for returns: [Retain_V1_CampaignReturn], of campaign: Retain_V1_Campaign) -> [Retain_V1_Transfer] {
        guard let reward = campaign.reward, reward.value > 0 else { return [] }
        return returns.map { back in
            LedgerPayer.reward(
                id: FlowKeys.campaignTransfer(campaign: campaign.campaignId, user: back.userId), user: back.userId,
                reward: FlowConfiguration.Reward(value: reward.value, asset: reward.asset), budget: campaign.rewardBudget,
                kind: .issue, expiresAtMs: 0, reason: "came back during campaign \(campaign.campaignId)",
                metadata: ["flow": "campaign_return", "campaign": campaign.campaignId, "returned_at_ms": String(back.returnedAtMs)])
        }
    }

    /// Pays what `returns` call for and is not paid yet.
    ///
    /// - Throws: ``FlowError/paymentRefused(_:result:)`` when the campaign's budget cannot pay
    ///   (the transfers before it stand; the caller tries again later), or a backend's failure.
    public func pay(_ returns: [Retain_V1_CampaignReturn], of campaign: Retain_V1_Campaign) async throws -> LedgerPayer.BatchOutcome {
        try await LedgerPayer(backend: backend, configuration: configuration).payMissing(
            Self.transfers(for: returns, of: campaign)
        ) { transfer, result in
            FlowError.paymentRefused(
                "campaign reward \(transfer.transferId) refused by the ledger: \(result.code) \(result.message); paid once the budget '\(campaign.rewardBudget)' is raised",
                result: result.code)
        }
    }
}
