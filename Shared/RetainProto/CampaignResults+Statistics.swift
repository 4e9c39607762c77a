extension Retain_V1_GetCampaignResultsResponse {
    /// Fills every figure from the counts (members and returns per group, touches and their cost
    /// per channel, rewards due): the recall rates, the lift of the treated over the holdout with
    /// its 95% interval (``ProportionDifference``), the users the campaign brought back, and the
    /// cost per recalled user and per user brought back. Profile answers with it, and the gateway
    /// recomputes a merged answer with it, so one shard or many give the same figures.
    public mutating func computeStatistics() {
        method = ProportionDifference.method
        var treated = self.treated ?? Retain_V1_CampaignGroupResult()
        var holdout = self.holdout ?? Retain_V1_CampaignGroupResult()
        treated.recallRate = ProportionDifference.rate(treated.returned, of: treated.members)
        holdout.recallRate = ProportionDifference.rate(holdout.returned, of: holdout.members)
        self.treated = treated
        self.holdout = holdout
        touchCost = channels.reduce(0) { $0 + $1.cost }
        let difference = ProportionDifference(
            p1: treated.recallRate, n1: treated.members, p0: holdout.recallRate, n0: holdout.members)
        let measured = treated.members > 0 && holdout.members > 0
        lift = measured ? difference.difference : 0
        liftCiLow = difference.low
        liftCiHigh = difference.high
        relativeLift = measured ? difference.lift : 0
        significant = difference.significant
        incrementalReturns = Double(treated.members) * lift
        let cost = Double(touchCost) + Double(rewardsDue?.value ?? 0)
        costPerRecalledUser = treated.returned > 0 ? cost / Double(treated.returned) : 0
        costPerIncrementalReturn = incrementalReturns > 0 ? cost / incrementalReturns : 0
    }
}
