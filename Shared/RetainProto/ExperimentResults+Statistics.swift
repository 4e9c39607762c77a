extension Retain_V1_GetExperimentResultsResponse {
    /// The method the intervals follow, as answers state it.
    public static let method = ProportionDifference.method

    /// Fills every figure from the counts (`assigned`, `converted`) and `control_variant`: the
    /// conversion rates, and for each variant against the control the difference, the lift and
    /// the 95% Wald interval of the difference. Profile answers with it, and the gateway
    /// recomputes a merged answer with it, so one shard or many give the same figures.
    public mutating func computeStatistics() {
        method = Self.method
        for index in variants.indices {
            let result = variants[index]
            variants[index].conversionRate = result.assigned > 0 ? Double(result.converted) / Double(result.assigned) : 0
        }
        guard let control = variants.first(where: { $0.variant == controlVariant }) else { return }
        let p0 = control.conversionRate
        for index in variants.indices {
            var result = variants[index]
            result.difference = 0
            result.lift = 0
            result.differenceCiLow = 0
            result.differenceCiHigh = 0
            result.significant = false
            if result.variant != controlVariant {
                let difference = ProportionDifference(
                    p1: result.conversionRate, n1: UInt64(result.assigned), p0: p0, n0: UInt64(control.assigned))
                result.difference = difference.difference
                result.lift = difference.lift
                result.differenceCiLow = difference.low
                result.differenceCiHigh = difference.high
                result.significant = difference.significant
            }
            variants[index] = result
        }
    }
}
