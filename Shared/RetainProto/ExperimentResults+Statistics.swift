extension Retain_V1_GetExperimentResultsResponse {
    /// The method the intervals follow, as answers state it.
    public static let method =
        "difference of two proportions, normal approximation (Wald): (p1 - p0) -/+ 1.959964 x sqrt(p1(1-p1)/n1 + p0(1-p0)/n0), 95%"

    /// Two-sided 95% quantile of the standard normal distribution.
    static let z95 = 1.959964

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
        let n0 = Double(control.assigned)
        for index in variants.indices {
            var result = variants[index]
            result.difference = 0
            result.lift = 0
            result.differenceCiLow = 0
            result.differenceCiHigh = 0
            result.significant = false
            if result.variant != controlVariant {
                let p1 = result.conversionRate
                let n1 = Double(result.assigned)
                result.difference = p1 - p0
                result.lift = p0 > 0 ? (p1 - p0) / p0 : 0
                if n1 > 0, n0 > 0 {
                    let margin = Self.z95 * (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0).squareRoot()
                    result.differenceCiLow = result.difference - margin
                    result.differenceCiHigh = result.difference + margin
                    result.significant = result.differenceCiLow > 0 || result.differenceCiHigh < 0
                }
            }
            variants[index] = result
        }
    }
}
