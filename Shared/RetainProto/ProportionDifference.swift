/// The difference of two proportions with its 95% interval by the normal approximation (Wald):
/// `(p1 - p0) -/+ 1.959964 x sqrt(p1(1-p1)/n1 + p0(1-p0)/n0)`. A/B results and campaign results
/// state their intervals with it, so Profile and the gateway (which recomputes merged answers)
/// give the same figures.
public struct ProportionDifference: Sendable, Equatable {
    /// How the interval is computed, as answers state it.
    public static let method =
        "difference of two proportions, normal approximation (Wald): (p1 - p0) -/+ 1.959964 x sqrt(p1(1-p1)/n1 + p0(1-p0)/n0), 95%"

    /// Two-sided 95% quantile of the standard normal distribution.
    static let z95 = 1.959964

    /// p1 - p0.
    public var difference: Double
    /// (p1 - p0) / p0; 0 when p0 is 0.
    public var lift: Double
    /// The interval's ends; both 0 when a group is empty.
    public var low: Double
    public var high: Double

    /// Whether the interval excludes 0.
    public var significant: Bool { low > 0 || high < 0 }

    /// The difference of rate `p1` over `n1` members against `p0` over `n0`.
    public init(p1: Double, n1: UInt64, p0: Double, n0: UInt64) {
        difference = p1 - p0
        lift = p0 > 0 ? (p1 - p0) / p0 : 0
        low = 0
        high = 0
        guard n1 > 0, n0 > 0 else { return }
        let margin = Self.z95 * (p1 * (1 - p1) / Double(n1) + p0 * (1 - p0) / Double(n0)).squareRoot()
        low = difference - margin
        high = difference + margin
    }

    /// `part / whole`, 0 when `whole` is 0.
    public static func rate(_ part: UInt64, of whole: UInt64) -> Double { whole > 0 ? Double(part) / Double(whole) : 0 }
}
