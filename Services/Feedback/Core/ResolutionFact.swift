/// One resolution, for the resolution statistics (SLA breach rate, time to resolve).
package struct ResolutionFact: Comparable, Hashable, Sendable {
    /// When it was resolved.
    package var resolvedAtMs: Int64
    /// From submission, or the last reopening, to resolution.
    package var timeToResolveMs: Int64
    /// The item.
    package var sequence: UInt32
    /// Team at resolution.
    package var team: UInt32
    /// How many resolutions of the item came before (orders two resolutions in the same ms).
    package var ordinal: UInt16
    /// Resolved after the due time.
    package var breached: Bool

    package static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.resolvedAtMs != rhs.resolvedAtMs { return lhs.resolvedAtMs < rhs.resolvedAtMs }
        return lhs.sequence != rhs.sequence ? lhs.sequence < rhs.sequence : lhs.ordinal < rhs.ordinal
    }
}
