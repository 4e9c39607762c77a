/// Orders items by submission time; the sequence number breaks ties and makes keys unique.
package struct CreationKey: Comparable, Hashable, Sendable {
    package var createdAtMs: Int64
    package var sequence: UInt32

    package init(createdAtMs: Int64, sequence: UInt32) {
        self.createdAtMs = createdAtMs
        self.sequence = sequence
    }

    package static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.createdAtMs != rhs.createdAtMs ? lhs.createdAtMs < rhs.createdAtMs : lhs.sequence < rhs.sequence
    }
}
