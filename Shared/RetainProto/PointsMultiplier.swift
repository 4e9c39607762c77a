/// What the tier privilege `points_multiplier` means, for Growth (which checks the value in its
/// configuration) and the gateway (which multiplies the points of task rewards by it): a decimal
/// from 1 to 10 with at most two decimals ("1", "1.2", "1.25"), held as hundredths so that
/// points stay whole numbers.
public struct PointsMultiplier: Sendable, Equatable {
    /// The privilege's name.
    public static let privilege = "points_multiplier"

    /// The multiplier in hundredths (120 for 1.2).
    public let hundredths: Int64

    /// Parses `text`; nil when it is not a multiplier from 1 to 10 with at most two decimals.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
            let whole = Int64(parts[0])
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard (1...2).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(digits) else {
                return nil
            }
            fraction = digits.count == 1 ? value * 10 : value
        }
        guard whole <= 10 else { return nil }
        let hundredths = whole * 100 + fraction
        guard (100...1000).contains(hundredths) else { return nil }
        self.hundredths = hundredths
    }

    /// `amount` multiplied, rounded down (1.5 x 5 points = 7 points).
    public func apply(to amount: Int64) -> Int64 {
        amount.multipliedReportingOverflow(by: hundredths).overflow ? amount : amount * hundredths / 100
    }

    /// The text form, e.g. "1.5".
    public var description: String {
        let fraction = hundredths % 100
        if fraction == 0 { return "\(hundredths / 100)" }
        return fraction % 10 == 0 ? "\(hundredths / 100).\(fraction / 10)" : "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
